import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { REPO_ROOT } from '@hivesight/coordinator'
import type { Route } from './delay-proxy.ts'
import type { NetHost } from './network.ts'
import { waitFor } from './sh.ts'
import { signalAndWait } from '../harness/child-exit.ts'

export const DELAY_LISTEN = '127.0.0.1'

/**
 * Pure: a DATABASE_URL whose hosts are reached through a delay proxy on this host's loopback instead
 * (`firstPort`, `firstPort + 1` … in the URL's order), and the proxy's routes.
 */
export function throughDelayProxy(databaseUrl: string, firstPort: number): { url: string; routes: Route[] } {
  const m = /^(mysql:\/\/[^@]*@)([^/]+)(\/.*)$/.exec(databaseUrl)
  if (!m) throw new Error(`not a mysql:// URL with hosts: ${databaseUrl}`)
  const routes = m[2]!.split(',').map((hp, i) => {
    const [host, port] = hp.split(':')
    return { listenPort: firstPort + i, targetHost: host!, targetPort: Number(port ?? 3306) }
  })
  return { url: `${m[1]}${routes.map((r) => `${DELAY_LISTEN}:${r.listenPort}`).join(',')}${m[3]}`, routes }
}

/**
 * A host's link to the database with latency (this kernel has no netem): delay-proxy-main.ts in the
 * host's namespace, which the host's coordinator connects through; `setDelay` changes it while it runs.
 */
export class DelayLink {
  private child: ChildProcess | undefined
  private readonly replies: string[] = []
  current = { ms: 0, jitterMs: 0 }

  constructor(readonly host: NetHost, private readonly routes: Route[]) {}

  async start(delay: { ms: number; jitterMs: number }): Promise<void> {
    const argv = this.host.exec([process.execPath, '--import', 'tsx', 'evaluation/src/hosts/delay-proxy-main.ts', DELAY_LISTEN,
      ...this.routes.map((r) => `${r.listenPort}=${r.targetHost}:${r.targetPort}`)])
    // stdin stays a pipe: the proxy stops when it closes (this process gone).
    const child = spawn(argv[0]!, argv.slice(1), { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'inherit'] })
    this.child = child
    createInterface({ input: child.stdout! }).on('line', (l) => this.replies.push(l))
    await waitFor(`the delay proxy on ${this.host.spec.name}`, 30_000, () => {
      if (child.exitCode !== null) throw new Error(`the delay proxy on ${this.host.spec.name} exited with ${child.exitCode}`)
      return this.replies.includes('{"ready":true}')
    }, 50)
    await this.setDelay(delay.ms, delay.jitterMs)
  }

  /** Each chunk held `ms` + [0, jitterMs) in each direction, from now on; resolves once the proxy applied it. */
  async setDelay(ms: number, jitterMs: number): Promise<void> {
    const want = JSON.stringify({ delay: ms, jitter: jitterMs })
    const from = this.replies.length
    this.child?.stdin?.write(`delay ${ms} ${jitterMs}\n`)
    await waitFor(`the delay proxy on ${this.host.spec.name} to apply ${ms} ms`, 5_000, () => this.replies.slice(from).includes(want), 20)
    this.current = { ms, jitterMs }
  }

  async stop(): Promise<void> {
    await signalAndWait(this.child, 'SIGTERM', 3_000)
  }
}
