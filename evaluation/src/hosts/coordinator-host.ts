import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from '@hivesight/coordinator'
import type { NetHost } from './network.ts'
import { waitFor } from './sh.ts'
import { signalAndWait } from '../harness/child-exit.ts'

export const COORDINATOR_PORT = 8080

/**
 * A real coordinator process (coordinator/src/server.ts) inside a host's namespace, listening on the
 * host's address, optionally under `faketime` (its own CLOCK_REALTIME; namespaces share the kernel's).
 */
export class CoordinatorHost {
  private child: ChildProcess | undefined
  readonly url: string
  /** e.g. ['faketime', '-f', '+30s'] for the next start. */
  wrap: string[] = []

  constructor(readonly id: string, readonly host: NetHost, private readonly dataDir: string, private readonly env: Record<string, string>) {
    this.url = `http://${host.ip}:${COORDINATOR_PORT}`
    mkdirSync(dataDir, { recursive: true })
  }

  get pid(): number | undefined {
    return this.child?.pid
  }

  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  async start(): Promise<void> {
    const log = createWriteStream(join(this.dataDir, 'coordinator.log'), { flags: 'a' })
    const argv = this.host.exec([...this.wrap, process.execPath, '--import', 'tsx', 'coordinator/src/server.ts'])
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: REPO_ROOT,
      env: {
        ...process.env, PORT: String(COORDINATOR_PORT), HOST: this.host.ip, DATA_DIR: this.dataDir, LOG_LEVEL: 'info', LOG_FORMAT: 'json', AUTH_MODE: 'open',
        COORDINATOR_ID: this.id, ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout?.pipe(log)
    child.stderr?.pipe(log)
    this.child = child
    await waitFor(`coordinator ${this.id} ready`, 60_000, async () => {
      if (child.exitCode !== null) throw new Error(`coordinator ${this.id} exited with ${child.exitCode}; see ${join(this.dataDir, 'coordinator.log')}`)
      return (await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(2_000) })).ok
    }, 100).catch((err: Error) => {
      if (child.exitCode !== null) throw new Error(`coordinator ${this.id} exited with ${child.exitCode}; see ${join(this.dataDir, 'coordinator.log')}`)
      throw err
    })
  }

  /** How many lines of its log (every life) contain `text`. */
  logLines(text: string): number {
    const file = join(this.dataDir, 'coordinator.log')
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l.includes(text)).length : 0
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await signalAndWait(this.child, signal)
  }
}
