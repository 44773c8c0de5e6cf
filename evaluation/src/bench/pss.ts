import { readFileSync } from 'node:fs'
import { descendants, isBrowserMain } from '../faults/process-tree.ts'

// Proportional set size (Linux): shared pages are split between the processes that map them, so the sum over
// Chromium's processes is what the tree costs the machine (RSS would count the shared libraries once per process).

const MiB = 1024 * 1024

/** A process's PSS in bytes from /proc/PID/smaps_rollup; undefined if it ended or the file is not there. */
export function pssBytes(pid: number): number | undefined {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))
    return m ? Number(m[1]) * 1024 : undefined
  } catch {
    return undefined
  }
}

const commandLine = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
  } catch {
    return ''
  }
}

export interface ChromiumMemory {
  /** Browser process and every process below it. */
  totalMiB: number
  /** --type=renderer processes: one per page (a page's inference Worker runs inside it). */
  rendererMiB: number[]
  processes: number
}

/** PSS of every Chromium tree below `root` (default: this process, whose Playwright launched the browser). */
export function chromiumPss(root = process.pid): ChromiumMemory {
  const browsers = descendants(root).filter(isBrowserMain)
  if (browsers.length === 0) throw new Error(`no Chromium browser process below pid ${root}`)
  const pids = browsers.flatMap((b) => [b, ...descendants(b)])
  let total = 0
  const rendererMiB: number[] = []
  for (const pid of pids) {
    const pss = pssBytes(pid)
    if (pss === undefined) continue
    total += pss
    if (commandLine(pid).includes('--type=renderer')) rendererMiB.push(pss / MiB)
  }
  return { totalMiB: total / MiB, rendererMiB, processes: pids.length }
}
