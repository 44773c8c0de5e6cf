import { createServer, type Server } from 'node:http'
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CoordinatorHost } from './coordinator-host.ts'
import { DB_NAME, DB_USER, GaleraNode } from './galera.ts'
import { Balancer, DB_PROXY_PORT } from './haproxy.ts'
import { createBridge, destroyLeftovers, GATEWAY, leftovers, NetHost } from './network.ts'
import { ensureHostPackages } from './needs.ts'
import { DelayLink, throughDelayProxy } from './delay-link.ts'
import { rigCgroups, RuntimeHost } from './runtime-host.ts'
import { WorkerHost } from './worker-host.ts'

/** The rig's coordinators derive worker session tokens from it; its runtimes present it. */
const RIG_WORKER_TOKEN = 'hosts-rig-worker-token-0123456789abcdef'
/** The delay proxy's first port on a coordinator host's loopback (one per database address). */
const DB_LINK_PORT = 13306

/** multi/single: Galera, each coordinator on its own node or all through HAProxy; plain: one MariaDB without wsrep. */
export type Writers = 'multi' | 'single' | 'plain'

export interface RigOptions {
  writers: Writers
  coordinators: number
  /** wsrep_sync_wait: 1 = causal reads for SELECT (and BEGIN). */
  syncWait: number
  /** Per-link rate (tbf), null for none. */
  rate: string | null
  /** Simulated workers on a worker host of their own (w1, .41), which `worker-partition` cuts off. */
  hostedWorkers: number
  /** Client hosts (cl1, cl2 … at .51…) for the upload load. */
  clientHosts: number
  /** Worker hosts (w2, w3 … at .42…) each running the real worker runtime: one Chromium page, `runtimeCores` of CPU. */
  runtimes: number
  runtimeCores: number
  /** Each coordinator's database traffic through a delay proxy on its host: this many ms each way (+ up to 1 ms jitter). */
  dbLatencyMs: number
  slots: number
  log: (m: string) => void
}

/** Pure: each coordinator's DATABASE_URL: multi-writer lists every node, its own first; single-writer goes through HAProxy; plain names the one server. */
export function databaseUrls(writers: Writers, nodeIps: string[], balancerIp: string, coordinators: number): string[] {
  return Array.from({ length: coordinators }, (_, i) => {
    if (writers === 'plain') return `mysql://${DB_USER}@${nodeIps[0]}:3306/${DB_NAME}`
    if (writers === 'single') return `mysql://${DB_USER}@${balancerIp}:${DB_PROXY_PORT}/${DB_NAME}`
    const order = nodeIps.map((_, k) => nodeIps[(i + k) % nodeIps.length]!)
    return `mysql://${DB_USER}@${order.map((ip) => `${ip}:3306`).join(',')}/${DB_NAME}`
  })
}

/**
 * The whole rig: bridge, 3 Galera nodes (10.77.0.11–13; plain: one MariaDB at .11), coordinator hosts
 * (.21…), HAProxy (.30), a worker host (.41) with some of the simulated workers, client hosts (.51…); the
 * other workers run in this process, on the bridge's own address (.1). Everyone goes through HAProxy. `down()` removes every process, namespace, veth and the bridge, whatever state it is in.
 */
export class Rig {
  readonly galera: GaleraNode[] = []
  readonly coordinators: CoordinatorHost[] = []
  balancer: Balancer | undefined
  workers: WorkerHost | undefined
  readonly clientNets: NetHost[] = []
  readonly runtimes: RuntimeHost[] = []
  /** Per coordinator (same order): its link to the database, whose delay the link-delay fault raises. */
  readonly dbLinks: DelayLink[] = []
  private readonly hosts: NetHost[] = []
  private readonly checks: Server[] = []
  private readonly dir = mkdtempSync(join(tmpdir(), 'hivesight-hosts-'))
  private isDown = false

  constructor(readonly opts: RigOptions) {
    chmodSync(this.dir, 0o755)
  }

  host(name: string): NetHost {
    const h = this.hosts.find((x) => x.spec.name === name)
    if (!h) throw new Error(`no host ${name}`)
    return h
  }

  async up(): Promise<void> {
    const { log } = this.opts
    ensureHostPackages(log)
    createBridge()
    const add = (name: string, octet: number) => {
      const h = new NetHost({ name, octet })
      this.hosts.push(h)
      h.create(this.opts.rate)
      return h
    }
    const plain = this.opts.writers === 'plain'
    const gHosts = (plain ? [11] : [11, 12, 13]).map((o, i) => add(`g${i + 1}`, o))
    const cHosts = Array.from({ length: this.opts.coordinators }, (_, i) => add(`c${i + 1}`, 21 + i))
    const lb = add('lb', 30)
    const w1 = add('w1', 41)
    for (let i = 0; i < this.opts.clientHosts; i++) this.clientNets.push(add(`cl${i + 1}`, 51 + i))
    const rtHosts = Array.from({ length: this.opts.runtimes }, (_, i) => add(`w${i + 2}`, 42 + i))
    log(`bridge br-hs with ${this.hosts.length} hosts (links ${this.opts.rate ?? 'unshaped'}; no netem in this kernel: each coordinator's database traffic goes through a delay proxy, ${this.opts.dbLatencyMs} ms each way)`)
    const peers = gHosts.map((h) => h.ip)
    for (const [i, h] of gHosts.entries()) this.galera.push(new GaleraNode(`g${i + 1}`, h, join(this.dir, `g${i + 1}`), plain ? [] : peers, this.opts.syncWait))
    const [first, ...rest] = this.galera
    let t = performance.now()
    await first!.start({ bootstrap: true })
    await first!.createSchema()
    if (plain) log(`one plain MariaDB (no wsrep) at ${first!.ip} (${((performance.now() - t) / 1000).toFixed(1)} s)`)
    else await this.joinOthers(first!, rest, t)
    if (this.opts.writers === 'single') await this.startClusterChecks()
    const urls = databaseUrls(this.opts.writers, peers, lb.ip, this.opts.coordinators)
    for (const [i, h] of cHosts.entries()) {
      const { url, routes } = throughDelayProxy(urls[i]!, DB_LINK_PORT)
      const link = new DelayLink(h, routes)
      await link.start({ ms: this.opts.dbLatencyMs, jitterMs: 1 })
      this.dbLinks.push(link)
      this.coordinators.push(new CoordinatorHost(`c${i + 1}`, h, join(this.dir, `c${i + 1}`), {
        DATABASE_URL: url, WORKER_TOKEN: RIG_WORKER_TOKEN, PING_INTERVAL_MS: '1000', LEASE_MS: '10000', EVENT_POLL_MS: '50', TRUST_PROXY: lb.ip,
      }))
    }
    this.balancer = new Balancer(lb, this.dir, {
      listen: lb.ip,
      coordinators: this.coordinators.map((c) => ({ name: c.id, address: c.host.ip })),
      galera: this.opts.writers === 'single' ? this.galera.map((g, i) => ({ name: g.name, address: g.ip, checkAddress: GATEWAY, checkPort: 9201 + i })) : undefined,
    })
    t = performance.now()
    if (this.opts.writers === 'single') {
      // The database port must be up before the coordinators migrate through it.
      await this.balancer.start(false)
    }
    // The first one migrates the fresh database; the others find it ready.
    await this.coordinators[0]!.start()
    await Promise.all(this.coordinators.slice(1).map((c) => c.start()))
    if (this.opts.writers !== 'single') await this.balancer.start()
    log(`${this.coordinators.length} coordinators (${plain ? 'one plain MariaDB' : `${this.opts.writers}-writer`}) behind HAProxy at ${this.balancer.url} (${((performance.now() - t) / 1000).toFixed(1)} s)`)
    if (this.opts.hostedWorkers > 0) {
      this.workers = new WorkerHost(w1, this.balancer.url, this.opts.hostedWorkers, this.opts.slots)
      await this.workers.start()
      log(`${this.opts.hostedWorkers} simulated workers on host w1 (${w1.ip}) through HAProxy`)
    }
    t = performance.now()
    for (const h of rtHosts) this.runtimes.push(new RuntimeHost(h, this.balancer.url, join(this.dir, `runtime-${h.spec.name}.log`), { pages: 1, cores: this.opts.runtimeCores, token: RIG_WORKER_TOKEN }))
    await Promise.all(this.runtimes.map((r) => r.start()))
    if (rtHosts.length) log(`${rtHosts.length} worker runtimes (Chromium, 1 page, ${this.opts.runtimeCores} core each) on ${rtHosts.map((h) => `${h.spec.name} (${h.ip})`).join(', ')} through HAProxy (${((performance.now() - t) / 1000).toFixed(1)} s)`)
  }

  /** The joiners start from a copy of the first node's data (see GaleraNode.seedFrom). */
  private async joinOthers(first: GaleraNode, rest: GaleraNode[], t: number): Promise<void> {
    await first.kill('SIGTERM')
    for (const n of rest) n.seedFrom(first)
    await first.start({ bootstrap: true })
    for (const n of rest) await n.start()
    const s = await first.status()
    if (s.clusterSize !== 3 || !s.ready) throw new Error(`Galera cluster not formed: ${JSON.stringify(s)}`)
    this.opts.log(`Galera: 3 nodes synced, wsrep_cluster_size=3, wsrep_ready=ON (${((performance.now() - t) / 1000).toFixed(1)} s)`)
  }

  /** Single writer: HAProxy asks http://10.77.0.1:920x/ whether node x is in the primary component and synced. */
  private async startClusterChecks(): Promise<void> {
    for (const [i, node] of this.galera.entries()) {
      const server = createServer((_req, res) => {
        node.status().then((s) => {
          const ok = s.ready && s.state === 'Synced'
          res.writeHead(ok ? 200 : 503).end(ok ? 'synced' : s.state)
        }, () => res.writeHead(503).end('unreachable'))
      })
      await new Promise<void>((resolve) => server.listen(9201 + i, GATEWAY, resolve))
      this.checks.push(server)
    }
  }

  async down(): Promise<string[]> {
    if (this.isDown) return leftovers()
    this.isDown = true
    await this.workers?.stop().catch(() => undefined)
    await Promise.all(this.runtimes.map((r) => r.stop(2_000).catch(() => undefined)))
    await this.balancer?.stop().catch(() => undefined)
    await Promise.all(this.coordinators.map((c) => c.kill('SIGKILL').catch(() => undefined)))
    await Promise.all(this.dbLinks.map((l) => l.stop().catch(() => undefined)))
    await Promise.all(this.galera.map((g) => g.kill('SIGKILL').catch(() => undefined)))
    for (const s of this.checks) s.close()
    for (const h of this.hosts) h.destroy()
    destroyLeftovers()
    rigCgroups(true)
    if (!process.env.KEEP_RIG_LOGS) rmSync(this.dir, { recursive: true, force: true })
    return [...leftovers(), ...rigCgroups()]
  }

  get logDir(): string {
    return this.dir
  }
}
