import { spawnSync } from 'node:child_process'

/** Runs a command, throwing with its stderr when it fails. */
export function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message || `exit ${r.status}`}`)
  return r.stdout
}

/** Runs a command and ignores how it ends (teardown: the thing may already be gone). */
export function tryRun(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Polls `ok` until it returns true, or throws `what` after `ms`. */
export async function waitFor(what: string, ms: number, ok: () => boolean | Promise<boolean>, everyMs = 200): Promise<number> {
  const start = performance.now()
  while (performance.now() - start < ms) {
    try {
      if (await ok()) return performance.now() - start
    } catch { /* not yet */ }
    await sleep(everyMs)
  }
  throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`)
}
