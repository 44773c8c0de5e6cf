import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { NetHost } from './network.ts'
import { waitFor } from './sh.ts'
import { signalAndWait } from '../harness/child-exit.ts'

export const BALANCER_PORT = 8080
export const DB_PROXY_PORT = 3306

export interface BalancerSpec {
  listen: string
  coordinators: { name: string; address: string }[]
  /** Single writer: the Galera nodes behind one TCP port, the first active, the others backups. */
  galera?: { name: string; address: string; checkPort: number; checkAddress: string }[]
}

/**
 * Pure: HAProxy's configuration. HTTP (and the /ws/worker upgrade, `timeout tunnel`) round-robin over the
 * coordinators, each checked on /readyz every 500 ms; X-Forwarded-For added. With `galera`, a TCP
 * listener that sends every coordinator to one node (single writer), checked over HTTP by the rig's
 * clustercheck (wsrep_ready and Synced), the others as backups; sessions on a node marked down are cut.
 */
export function haproxyConfig(spec: BalancerSpec): string {
  const lines = [
    'global', '  maxconn 4096', '',
    'defaults', '  mode http', '  timeout connect 2s', '  timeout client 60s', '  timeout server 60s', '  timeout tunnel 1h', '  retries 2', '  option redispatch', '',
    // Its own 503 (no coordinator ready) tells clients when to come back, as a coordinator's does.
    'frontend api', `  bind ${spec.listen}:${BALANCER_PORT}`, '  option forwardfor', '  http-after-response set-header Retry-After 1 if { status 503 } !{ res.hdr(retry-after) -m found }',
    '  default_backend coordinators', '',
    'backend coordinators', '  balance roundrobin', '  option httpchk GET /readyz', '  http-check expect status 200',
    '  default-server inter 500ms fall 2 rise 2 on-marked-down shutdown-sessions',
    ...spec.coordinators.map((c) => `  server ${c.name} ${c.address}:8080 check`),
  ]
  if (spec.galera) {
    lines.push('', 'listen galera', `  bind ${spec.listen}:${DB_PROXY_PORT}`, '  mode tcp', '  timeout client 1h', '  timeout server 1h', '  option httpchk GET /',
      '  default-server inter 500ms fall 2 rise 2 on-marked-down shutdown-sessions',
      ...spec.galera.map((g, i) => `  server ${g.name} ${g.address}:3306 check addr ${g.checkAddress} port ${g.checkPort}${i > 0 ? ' backup' : ''}`))
  }
  return `${lines.join('\n')}\n`
}

/** Our own haproxy process (not the system service) in the balancer's namespace. */
export class Balancer {
  private child: ChildProcess | undefined
  readonly url: string

  constructor(readonly host: NetHost, private readonly dir: string, private readonly spec: BalancerSpec) {
    this.url = `http://${host.ip}:${BALANCER_PORT}`
  }

  static ensureInstalled(): void {
    if (spawnSync('haproxy', ['-v'], { stdio: 'ignore' }).status !== 0) throw new Error('haproxy is not installed (as root: apt-get install -y haproxy)')
  }

  /** `wait`: until a coordinator answers through it (not for the database port, before the coordinators exist). */
  async start(wait = true): Promise<void> {
    const cfg = join(this.dir, 'haproxy.cfg')
    writeFileSync(cfg, haproxyConfig(this.spec))
    const argv = this.host.exec(['haproxy', '-db', '-f', cfg])
    this.child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' })
    if (!wait) return
    await waitFor('haproxy routing to a coordinator', 30_000, async () => (await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(2_000) })).ok)
  }

  async stop(): Promise<void> {
    await signalAndWait(this.child, 'SIGKILL')
  }
}
