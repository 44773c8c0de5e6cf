import type { GaleraNode } from './galera.ts'
import { DB_PROXY_PORT } from './haproxy.ts'
import type { Rig } from './rig.ts'
import { sleep, waitFor } from './sh.ts'

export const FAULTS = ['galera-node-kill', 'galera-double-kill', 'galera-partition', 'coordinator-kill', 'coordinator-db-partition', 'worker-partition', 'clock-skew', 'haproxy-restart', 'link-loss', 'link-delay'] as const
export type FaultName = (typeof FAULTS)[number]
/** The faults that need a Galera cluster (not one plain MariaDB). */
export const GALERA_FAULTS: readonly FaultName[] = ['galera-node-kill', 'galera-double-kill', 'galera-partition']

/** Pure: `--faults a,b|all` → the faults to run, one run each, in order; `none` is a run without a fault (null). */
export function parseFaults(arg: string): (FaultName | null)[] {
  if (arg === 'all') return [...FAULTS]
  const names = arg.split(',').map((s) => s.trim()).filter(Boolean)
  for (const n of names) if (n !== 'none' && !(FAULTS as readonly string[]).includes(n)) throw new Error(`unknown fault ${n} (known: ${FAULTS.join(', ')}, all, none)`)
  return names.map((n) => (n === 'none' ? null : (n as FaultName)))
}

/** What a coordinator logs when it returns to its own database node (server.ts). */
const FAILBACK_LOG = "back on this coordinator's own node"

export interface FaultOutcome {
  /** performance.now() when the rig was whole again */
  healedAt: number
  notes: string[]
}

async function clusterWhole(rig: Rig, timeoutMs: number): Promise<void> {
  await waitFor('all Galera nodes synced, cluster size 3', timeoutMs, async () => {
    const all = await Promise.all(rig.galera.map((g) => g.status()))
    return all.every((s) => s.ready && s.state === 'Synced' && s.clusterSize === 3)
  }, 250)
}

/**
 * The faults. Each runs while the load goes on and returns when the rig is whole again.
 * - galera-node-kill: kill -9 a node written to (multi-writer: g2, the second coordinator's own; single-writer:
 *   g1, HAProxy's active node), restart it 3 s
 *   later; it rejoins by IST (its position recovered from InnoDB first).
 * - galera-double-kill: kill -9 g2, then g3 1 s later (Jepsen's crashes in quick succession): g1 alone
 *   is a minority, so the whole cluster refuses writes; both restart 3 s later. If the three do not form
 *   a primary component again within 30 s, g1 is bootstrapped (`pc.bootstrap`), as an operator would.
 * - galera-partition: nftables drops everything between that node and the other two (it is the minority:
 *   1047 to its clients) for 12 s, then heals.
 * - coordinator-kill: kill -9 the second coordinator, restart it 1 s later.
 * - coordinator-db-partition: the second coordinator cut from every Galera node (HAProxy and its workers still
 *   reach it) for 12 s; its workers' jobs must come back through the other coordinator, nothing twice.
 * - worker-partition: the worker hosts (simulated workers and Chromium runtimes) cut from HAProxy
 *   (silently) for 12 s: their jobs must run elsewhere, never held twice at once, none lost.
 * - clock-skew: the second coordinator restarted under `faketime -f +30s`, left so for 10 s of load, then
 *   restarted with the true clock.
 * - link-loss: 20 % of the packets arriving at the second coordinator's host dropped at random for 15 s (its
 *   clients' requests through HAProxy, its workers' answers, its database replies).
 * - link-delay: the second coordinator's database traffic held 100–150 ms each way (its delay proxy) for
 *   15 s: every statement and commit slower, leases and heartbeats must still hold.
 * - haproxy-restart: kill -9 the balancer (every client and worker connection through it is cut; single-writer:
 *   every coordinator's database connection too), started again 2 s later.
 */
export async function injectFault(rig: Rig, name: FaultName, log: (m: string) => void): Promise<FaultOutcome> {
  const notes: string[] = []
  // The node a coordinator writes to: the second coordinator's own (multi-writer), HAProxy's active one (single).
  const node = rig.opts.writers === 'single' ? rig.galera[0]! : rig.galera[1]!
  const other = rig.galera.find((g) => g !== node)!
  const coord = rig.coordinators[1 % rig.coordinators.length]!
  if (name === 'galera-node-kill') {
    log(`fault: kill -9 ${node.name} (pid ${node.pid})`)
    await node.kill('SIGKILL')
    await sleep(3_000)
    const t = performance.now()
    await node.start()
    const backBefore = coord.logLines(FAILBACK_LOG)
    await clusterWhole(rig, 120_000)
    const rejoined = performance.now()
    notes.push(`${node.name} rejoined in ${((rejoined - t) / 1000).toFixed(1)} s (${node.lastJoin() ?? 'state transfer not logged'})`)
    if (rig.opts.writers === 'multi') {
      // Its coordinator had moved to another node: it must come back to its own (probed every 10 s).
      const back = await waitFor(`${coord.id} back on ${node.name}`, 30_000, () => coord.logLines(FAILBACK_LOG) > backBefore, 250).then(() => performance.now(), () => undefined)
      notes.push(back === undefined ? `${coord.id} did not move back to ${node.name} within 30 s` : `${coord.id} back on its own node ${node.name} ${((back - rejoined) / 1000).toFixed(1)} s after the rejoin`)
    }
  } else if (name === 'galera-double-kill') {
    const [survivor, a, b] = rig.galera as [GaleraNode, GaleraNode, GaleraNode]
    log(`fault: kill -9 ${a.name}, then ${b.name} 1 s later (${survivor.name} left alone: no quorum)`)
    await a.kill('SIGKILL')
    await sleep(1_000)
    await b.kill('SIGKILL')
    await sleep(3_000)
    const t = performance.now()
    let bootstrapped = false
    const watchdog = (async () => {
      await sleep(30_000)
      const st = await survivor.status('root').catch(() => undefined)
      if (st && st.ready) return
      bootstrapped = true
      log(`no primary component 30 s after the restarts: pc.bootstrap on ${survivor.name}`)
      await survivor.bootstrapPrimary()
    })()
    await Promise.all([a.start(), b.start(), watchdog])
    await clusterWhole(rig, 120_000)
    notes.push(`${a.name} and ${b.name} rejoined in ${((performance.now() - t) / 1000).toFixed(1)} s (${a.lastJoin() ?? '?'}, ${b.lastJoin() ?? '?'})${bootstrapped ? `; the primary component was bootstrapped on ${survivor.name}` : '; the primary component re-formed by itself'}`)
  } else if (name === 'galera-partition') {
    const others = rig.galera.filter((g) => g !== node).map((g) => g.ip)
    log(`fault: partition ${node.name} from ${others.join(', ')} (minority) for 12 s`)
    node.host.partitionFrom(others)
    const cut = performance.now()
    let offAt: number | undefined
    let majority: number | undefined
    while (performance.now() - cut < 12_000) {
      const s = await node.status().catch(() => undefined)
      if (offAt === undefined && s && !s.ready) offAt = performance.now()
      majority ??= await other.status().then((m) => (m.clusterSize === 2 ? performance.now() : undefined), () => undefined)
      await sleep(250)
    }
    notes.push(offAt === undefined ? `${node.name} never reported wsrep_ready=OFF in 12 s` : `${node.name} wsrep_ready=OFF (non-primary, 1047 to its clients) ${((offAt - cut) / 1000).toFixed(1)} s after the cut`)
    if (majority !== undefined) notes.push(`the majority (2 nodes) went on without it ${((majority - cut) / 1000).toFixed(1)} s after the cut`)
    node.host.heal()
    log(`healed ${node.name}`)
    await clusterWhole(rig, 120_000)
  } else if (name === 'coordinator-kill') {
    log(`fault: kill -9 coordinator ${coord.id} (pid ${coord.pid})`)
    await coord.kill('SIGKILL')
    await sleep(1_000)
    await coord.start()
  } else if (name === 'coordinator-db-partition') {
    const nodes = rig.galera.map((g) => g.ip)
    if (rig.opts.writers === 'single') {
      // Its database is HAProxy's TCP port: cut that, not the HTTP and worker traffic through the balancer.
      const lb = rig.balancer!.host.ip
      log(`fault: partition coordinator ${coord.id} from the database (${lb}:${DB_PROXY_PORT}; not from HAProxy's HTTP or its workers) for 12 s`)
      coord.host.partitionFromPort(lb, DB_PROXY_PORT)
    } else {
      log(`fault: partition coordinator ${coord.id} from every Galera node (not from HAProxy or its workers) for 12 s`)
    }
    coord.host.partitionFrom(nodes)
    const cut = performance.now()
    let unreadyAt: number | undefined
    while (performance.now() - cut < 12_000) {
      if (unreadyAt === undefined && !(await fetch(`${coord.url}/readyz`, { signal: AbortSignal.timeout(1_000) }).then((r) => r.ok, () => false))) unreadyAt = performance.now()
      await sleep(250)
    }
    notes.push(unreadyAt === undefined ? `${coord.id} kept answering /readyz 200 while cut off` : `${coord.id} /readyz not ok ${((unreadyAt - cut) / 1000).toFixed(1)} s after the cut`)
    coord.host.heal()
    log(`healed ${coord.id}`)
    const t = performance.now()
    await waitFor(`${coord.id} ready again`, 120_000, async () => (await fetch(`${coord.url}/readyz`, { signal: AbortSignal.timeout(2_000) })).ok, 250)
    notes.push(`${coord.id} ready ${((performance.now() - t) / 1000).toFixed(1)} s after the heal`)
  } else if (name === 'worker-partition') {
    const w = rig.workers
    if (!w) throw new Error('worker-partition needs the worker host')
    const lbIp = rig.balancer!.host.ip
    const before = w.holds.length
    // The simulated workers' host and every Chromium runtime's host.
    const cut = [w.host, ...rig.runtimes.map((r) => r.host)]
    const names = cut.map((h) => h.spec.name).join(', ')
    log(`fault: partition worker hosts ${names} from the balancer (${lbIp}) for 12 s`)
    for (const h of cut) h.partitionFrom([lbIp])
    await sleep(12_000)
    for (const h of cut) h.heal()
    log(`healed ${names}`)
    notes.push(`holds on ${w.host.spec.name} before the cut: ${before}; the silent sockets of ${names} are dropped by the coordinators' pings, their jobs requeued`)
  } else if (name === 'clock-skew') {
    log(`fault: coordinator ${coord.id} restarted under faketime -f +30s`)
    await coord.kill('SIGKILL')
    coord.wrap = ['faketime', '-f', '+30s']
    await coord.start()
    await sleep(10_000)
    coord.wrap = []
    await coord.kill('SIGKILL')
    await coord.start()
  } else if (name === 'link-loss') {
    log(`fault: 20 % of the packets arriving at ${coord.id}'s host dropped for 15 s`)
    coord.host.lossIn(20)
    await sleep(15_000)
    coord.host.heal()
    log(`healed ${coord.id}`)
  } else if (name === 'link-delay') {
    const link = rig.dbLinks[rig.coordinators.indexOf(coord)]!
    const base = link.current
    log(`fault: ${coord.id}'s database traffic delayed 100–150 ms each way for 15 s`)
    await link.setDelay(100, 50)
    await sleep(15_000)
    await link.setDelay(base.ms, base.jitterMs)
    log(`${coord.id}'s database link back to ${base.ms} ms`)
  } else if (name === 'haproxy-restart') {
    const lb = rig.balancer!
    log('fault: kill -9 HAProxy, start it again after 2 s')
    await lb.stop()
    await sleep(2_000)
    const t = performance.now()
    await lb.start()
    notes.push(`HAProxy routing again ${((performance.now() - t) / 1000).toFixed(1)} s after its restart`)
  }
  return { healedAt: performance.now(), notes }
}
