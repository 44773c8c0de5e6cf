import type { ChildProcess } from 'node:child_process'

/**
 * Sends `signal` to a child process and resolves once it has exited (at once if it already had). With
 * `graceMs`, a child still running after that long is killed -9 (and not waited for further).
 */
export async function signalAndWait(child: ChildProcess | undefined, signal: NodeJS.Signals, graceMs?: number): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill(signal)
  if (graceMs === undefined) return gone
  let timer: NodeJS.Timeout | undefined
  await Promise.race([gone, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))])
  clearTimeout(timer)
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
}
