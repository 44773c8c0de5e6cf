import { readdirSync, readFileSync } from 'node:fs'

/** Every live descendant of `pid` (Linux /proc), deepest last. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // Field 4 of /proc/PID/stat is the parent; the command name (field 2) may hold spaces, so split after ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      const list = children.get(ppid) ?? []
      list.push(Number(entry))
      children.set(ppid, list)
    } catch { /* the process ended meanwhile */ }
  }
  const out: number[] = []
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c)
      walk(c)
    }
  }
  walk(pid)
  return out
}

export function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, signal)
    } catch { /* already gone */ }
  }
}

/** Chromium's browser process: a chrom* command line without --type= (renderers, GPU, zygotes have one). */
export function isBrowserMain(pid: number): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    return /chrom/i.test(cmd.split('\0')[0] ?? '') && !cmd.includes('--type=')
  } catch {
    return false
  }
}
