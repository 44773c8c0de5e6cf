import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from '@hivesight/coordinator'
import { signalAndWait } from './child-exit.ts'

/**
 * The real coordinator (coordinator/src/server.ts) as a child process, so a fault can kill -9 it and
 * start it again on the same port, data folder and database.
 */
export class CoordinatorProcess {
  private child: ChildProcess | undefined
  readonly url: string

  /** `wrap`: a command the coordinator runs under, e.g. strace (its arguments, then node's). */
  constructor(private readonly opts: { port: number; dataDir: string; databaseUrl?: string; env?: Record<string, string>; wrap?: string[] }) {
    this.url = `http://127.0.0.1:${opts.port}`
  }

  async start(): Promise<void> {
    const log = createWriteStream(join(this.opts.dataDir, 'coordinator.log'), { flags: 'a' })
    // COORDINATOR_NODE_ARGS: extra node flags for the coordinator, e.g. --cpu-prof to profile a bench run.
    const extra = (process.env.COORDINATOR_NODE_ARGS ?? '').split(' ').filter(Boolean)
    const [command, ...args] = [...(this.opts.wrap ?? []), process.execPath, ...extra, '--import', 'tsx', 'coordinator/src/server.ts']
    const child = spawn(command!, args, {
      cwd: REPO_ROOT,
      env: {
        ...process.env, PORT: String(this.opts.port), HOST: '127.0.0.1', DATA_DIR: this.opts.dataDir, LOG_LEVEL: 'info', LOG_FORMAT: 'json', AUTH_MODE: 'open',
        ...(this.opts.databaseUrl ? { DATABASE_URL: this.opts.databaseUrl } : {}), ...this.opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout?.pipe(log)
    child.stderr?.pipe(log)
    this.child = child
    const end = Date.now() + 30_000
    while (Date.now() < end) {
      if (child.exitCode !== null) throw new Error(`the coordinator exited with ${child.exitCode}; see ${join(this.opts.dataDir, 'coordinator.log')}`)
      try {
        if ((await fetch(`${this.url}/readyz`)).ok) return
      } catch { /* not up yet */ }
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error('the coordinator did not become ready in 30 s')
  }

  get pid(): number | undefined {
    return this.child?.pid
  }

  /** Still running (not exited or killed)? */
  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  /** Resident and peak resident memory from /proc (Linux), in bytes. */
  memory(): { rss: number; peak: number } {
    const status = readFileSync(`/proc/${this.child?.pid}/status`, 'utf8')
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024
    return { rss: kb('VmRSS'), peak: kb('VmHWM') }
  }

  /** Sends a signal and waits for the process to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await signalAndWait(this.child, signal)
  }
}
