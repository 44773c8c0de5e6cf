import { readFileSync } from 'node:fs'
import { availableParallelism, freemem } from 'node:os'
import type { Machine } from './runtime-sizing.ts'

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return undefined
  }
}

/** Cores: CPU affinity, lowered by a cgroup v2 quota (`cpu.max` "200000 100000" = 2 cores) if there is one. */
export function usableCores(): number {
  const affinity = availableParallelism()
  const [quota, period] = (read('/sys/fs/cgroup/cpu.max') ?? 'max').split(' ')
  if (!quota || quota === 'max' || !period) return affinity
  return Math.max(1, Math.min(affinity, Math.floor(Number(quota) / Number(period))))
}

/** MemAvailable from /proc/meminfo (free alone undercounts the page cache), lowered by a cgroup limit. */
export function availableMemory(): number {
  const meminfo = read('/proc/meminfo')
  const kb = meminfo ? Number(/^MemAvailable:\s+(\d+) kB/m.exec(meminfo)?.[1]) : NaN
  let available = Number.isFinite(kb) ? kb * 1024 : freemem()
  const limit = read('/sys/fs/cgroup/memory.max')
  const used = Number(read('/sys/fs/cgroup/memory.current'))
  if (limit && limit !== 'max' && Number.isFinite(used)) available = Math.min(available, Number(limit) - used)
  return available
}

export function thisMachine(): Machine {
  return { cores: usableCores(), availableBytes: availableMemory() }
}
