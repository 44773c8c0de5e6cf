import { createConnection } from 'mysql2/promise'
import { SIGNED_SCORE } from '../cluster/holds.ts'
import { RecordingWorker, type FleetLog } from '../cluster/recording-worker.ts'
import { checkRun, sumConflicts, type HostsVerdict, type SignedAnswer, type Upload } from './checker.ts'
import { ClientHost } from './client-host.ts'
import type { FaultName } from './faults.ts'
import { DB_NAME, DB_USER } from './galera.ts'
import { runNemesis } from './nemesis.ts'
import { simulatedInferenceMs } from './worker-host.ts'
import { Rig, type Writers } from './rig.ts'
import { sleep, waitFor } from './sh.ts'

export interface HostsRunOptions {
  /** None: a run without a fault; one: injected after 30 % of the uploads; several: one after another in one run (mixed), the load going on until the last recovered. */
  faults: FaultName[]
  jobs: number
  imagesPerRequest: number
  workers: number
  slots: number
  /** Worker hosts with the real runtime (one Chromium page each, `runtimeCores` of CPU). */
  runtimes: number
  runtimeCores: number
  /** ms each way on every coordinator's database link (delay proxy). */
  dbLatencyMs: number
  writers: Writers
  syncWait: number
  log: (m: string) => void
}

export interface HostsRunResult extends HostsVerdict {
  galera: Record<string, unknown>
  writers: Writers
  jobsPerS: number
  /** Jobs answered by the Chromium runtimes' pages (the rest by simulated workers, which sign theirs). */
  answeredByChromium: number
  /** Succeeded jobs whose stored result was checked against their last lease (the simulated workers' answers). */
  signedAnswersChecked: number
  /** Every answer the clients got, retries included ('503 coordinator, Retry-After', 'connection error' …). */
  clientSaw: Record<string, number>
  /** What the connection errors (no HTTP response) were. */
  clientErrors: Record<string, number>
  seconds: number
  leftBehind: string[]
}

const CLIENT_HOSTS = 2
const CLIENTS_PER_HOST = 4

/**
 * One run on the rig: clients on two client hosts upload `jobs` images (requests of `imagesPerRequest`, 8
 * at a time) with Idempotency-Keys through HAProxy, retrying any failure with the same key; simulated
 * workers (also through HAProxy) record every hold; the nemesis injects the faults. Then every
 * acknowledged job must end `succeeded`, exactly once.
 */
export async function runHosts(opts: HostsRunOptions): Promise<HostsRunResult> {
  const { log } = opts
  const started = performance.now()
  // A third of the workers on a worker host of their own (worker-partition cuts it off), the rest here.
  const hosted = Math.max(1, Math.floor(opts.workers / 3))
  const rig = new Rig({ writers: opts.writers, coordinators: 2, syncWait: opts.syncWait, rate: '100mbit', hostedWorkers: hosted, clientHosts: CLIENT_HOSTS, runtimes: opts.runtimes, runtimeCores: opts.runtimeCores, dbLatencyMs: opts.dbLatencyMs, slots: opts.slots, log })
  const workers: RecordingWorker[] = []
  const onSignal = () => void rig.down().finally(() => process.exit(130))
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  let sampler: NodeJS.Timeout | undefined
  const clients: ClientHost[] = []
  try {
    await rig.up()
    const lb = rig.balancer!.url
    const fleetLog: FleetLog = { holds: [], assigned: [], canceled: [] }
    for (let i = 0; i < opts.workers - hosted; i++) workers.push(new RecordingWorker(`w${i + 1}`, [lb], fleetLog, { slots: opts.slots, latencyMs: simulatedInferenceMs, signAnswers: true }))
    await Promise.all(workers.map((w) => w.start()))
    sampler = setInterval(() => void Promise.all(rig.galera.map((g) => g.status().catch(() => undefined))), 1_000)

    const mixed = opts.faults.length > 1
    const requests = Math.ceil(opts.jobs / opts.imagesPerRequest)
    const uploads = new Map<string, Upload>()
    const clientSaw: Record<string, number> = {}
    const clientErrors: Record<string, number> = {}
    const ackTimes: number[] = []
    const events = {
      ack: (key: string, ids: string[], at: number) => {
        let u = uploads.get(key)
        if (!u) {
          u = { key, acks: [] }
          uploads.set(key, u)
          ackTimes.push(at)
        }
        u.acks.push(ids)
      },
      saw: (answer: string, why?: string) => {
        clientSaw[answer] = (clientSaw[answer] ?? 0) + 1
        if (why) clientErrors[why] = (clientErrors[why] ?? 0) + 1
      },
    }
    for (const h of rig.clientNets) clients.push(new ClientHost(h, lb, events))
    // Mixed: the load goes on until the last fault recovered; otherwise `requests`, split over the hosts.
    const share = (i: number) => (mixed ? Infinity : Math.floor(requests / clients.length) + (i < requests % clients.length ? 1 : 0))
    await Promise.all(clients.map((c, i) => c.start({ imagesPerRequest: opts.imagesPerRequest, concurrency: CLIENTS_PER_HOST, requests: share(i) })))
    const loadStart = performance.now()
    let loadDone = false
    const warm = () => ackTimes.length >= (mixed ? 150 : requests * 0.3)
    const nemesis = runNemesis(rig, opts.faults, { ackTimes, loadDone: () => loadDone }, warm, log)
    if (mixed) void nemesis.catch(() => undefined).then(() => sleep(3_000)).then(() => clients.forEach((c) => c.stop()))
    await Promise.all(clients.map((c) => c.done()))
    loadDone = true
    const loadS = (performance.now() - loadStart) / 1000
    const faults = await nemesis
    log(`${ackTimes.length} requests acknowledged in ${loadS.toFixed(1)} s; clients saw ${JSON.stringify(clientSaw)}`)

    // Every acknowledged job must end: read the shared database (any node).
    const ids = [...new Set([...uploads.values()].flatMap((u) => u.acks.flat()))]
    const statusOf = new Map<string, string>()
    const signed: SignedAnswer[] = []
    const readStatus = async () => {
      const node = rig.galera.find((g) => g.alive) ?? rig.galera[0]!
      const conn = await createConnection({ host: node.ip, user: DB_USER, database: DB_NAME })
      try {
        const [rows] = await conn.query('SELECT id, status, lease_token, result_json FROM jobs')
        signed.length = 0
        for (const r of rows as { id: string; status: string; lease_token: number; result_json: string | null }[]) {
          statusOf.set(r.id, r.status)
          // The simulated workers sign their answers (SIGNED_SCORE); the Chromium pages answer what the model says.
          const top = r.status === 'succeeded' && r.result_json ? (JSON.parse(r.result_json) as { top: [number, number][] }).top[0] : undefined
          if (top && top[1] === SIGNED_SCORE) signed.push({ jobId: r.id, leaseToken: Number(r.lease_token), top1: top[0] })
        }
      } finally {
        await conn.end()
      }
    }
    await waitFor('every acknowledged job final', 180_000, async () => {
      await readStatus()
      return ids.every((id) => ['succeeded', 'failed', 'dead', 'canceled'].includes(statusOf.get(id) ?? ''))
    }, 1_000).catch((err: Error) => log(err.message))
    await Promise.all(workers.map((w) => w.stop()))
    await rig.workers?.stop()
    await Promise.all(rig.runtimes.map((r) => r.stop()))
    const perNode: Record<string, { certFailures: number; bfAborts: number }> = {}
    for (const g of rig.galera) {
      await g.status().catch(() => undefined)
      perNode[g.name] = g.conflicts
    }
    const verdict = checkRun([...uploads.values()], statusOf, [...fleetLog.holds, ...(rig.workers?.holds ?? [])], faults, signed)
    const byStatus: Record<string, number> = {}
    for (const id of ids) byStatus[statusOf.get(id) ?? 'missing'] = (byStatus[statusOf.get(id) ?? 'missing'] ?? 0) + 1
    return {
      ...verdict,
      galera: { ...sumConflicts(perNode), perNode, syncWait: opts.syncWait, byStatus, jobsInDatabase: statusOf.size },
      // Every succeeded job not signed by a simulated worker was answered by a Chromium page.
      answeredByChromium: ids.filter((id) => statusOf.get(id) === 'succeeded').length - signed.length,
      signedAnswersChecked: signed.length,
      writers: opts.writers,
      jobsPerS: round(verdict.acknowledged / loadS),
      clientSaw,
      clientErrors,
      seconds: round((performance.now() - started) / 1000),
      leftBehind: [],
    }
  } finally {
    clearInterval(sampler)
    await Promise.all(clients.map((c) => c.kill().catch(() => undefined)))
    await Promise.all(workers.map((w) => w.stop().catch(() => undefined)))
    const left = await rig.down()
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
    if (left.length > 0) log(`left behind: ${left.join(', ')}`)
    lastLeftBehind = left
  }
}

let lastLeftBehind: string[] = []
/** What the last run's teardown could not remove (the leak check). */
export function leftBehindByLastRun(): string[] {
  return lastLeftBehind
}

const round = (x: number) => Math.round(x * 10) / 10
