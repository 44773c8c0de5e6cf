import { randomUUID } from 'node:crypto'
import { createConnection } from 'mysql2/promise'
import type { SubmitResponse } from '@hivesight/protocol'
import sharp from 'sharp'
import { mapLimit } from '../client/hivesight-client.ts'
import { RecordingWorker, type FleetLog } from '../cluster/recording-worker.ts'
import { checkRun, longestGapMs, sumConflicts, type FaultRecord, type HostsVerdict, type Upload } from './checker.ts'
import { injectFault, type FaultName } from './faults.ts'
import { DB_NAME, DB_USER } from './galera.ts'
import { Rig, type Writers } from './rig.ts'
import { sleep, waitFor } from './sh.ts'

export interface HostsRunOptions {
  fault: FaultName | null
  jobs: number
  imagesPerRequest: number
  workers: number
  slots: number
  writers: Writers
  syncWait: number
  log: (m: string) => void
}

export interface HostsRunResult extends HostsVerdict {
  galera: Record<string, unknown>
  writers: Writers
  jobsPerS: number
  clientSaw: Record<string, number>
  /** What the status-0 answers (no HTTP response) were. */
  clientErrors: Record<string, number>
  seconds: number
  leftBehind: string[]
}

/**
 * One run on the rig: clients upload `jobs` images (requests of `imagesPerRequest`, 8 at a time) with
 * Idempotency-Keys through HAProxy, retrying any failure with the same key; simulated workers (also through
 * HAProxy) record every hold; the fault starts after 30 % of the requests were acknowledged. Then every
 * acknowledged job must end `succeeded`, exactly once.
 */
export async function runHosts(opts: HostsRunOptions): Promise<HostsRunResult> {
  const { log } = opts
  const started = performance.now()
  // A third of the workers on a worker host of their own (worker-partition cuts it off), the rest here.
  const hosted = Math.max(1, Math.floor(opts.workers / 3))
  const rig = new Rig({ writers: opts.writers, coordinators: 2, syncWait: opts.syncWait, rate: '100mbit', hostedWorkers: hosted, slots: opts.slots, log })
  const workers: RecordingWorker[] = []
  const onSignal = () => void rig.down().finally(() => process.exit(130))
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  let sampler: NodeJS.Timeout | undefined
  try {
    await rig.up()
    const lb = rig.balancer!.url
    const png = await sharp({ create: { width: 48, height: 32, channels: 3, background: { r: 40, g: 120, b: 200 } } }).png().toBuffer()
    const fleetLog: FleetLog = { holds: [], assigned: [], canceled: [] }
    for (let i = 0; i < opts.workers - hosted; i++) workers.push(new RecordingWorker(`w${i + 1}`, [lb], fleetLog, { slots: opts.slots, latencyMs: () => 2 + Math.random() * 8 }))
    await Promise.all(workers.map((w) => w.start()))
    sampler = setInterval(() => void Promise.all(rig.galera.map((g) => g.status().catch(() => undefined))), 1_000)

    const requests = Math.ceil(opts.jobs / opts.imagesPerRequest)
    const uploads: Upload[] = []
    const clientSaw: Record<string, number> = {}
    const clientErrors: Record<string, number> = {}
    const ackTimes: number[] = []
    let fault: Promise<FaultRecord> | undefined
    const loadStart = performance.now()
    const submit = async (key: string): Promise<{ status: number; ids?: string[] }> => {
      const form = new FormData()
      for (let i = 0; i < opts.imagesPerRequest; i++) form.append('image', new Blob([new Uint8Array(png)], { type: 'image/png' }), `img-${i}.png`)
      const res = await fetch(`${lb}/api/v1/jobs`, { method: 'POST', body: form, headers: { 'idempotency-key': key }, signal: AbortSignal.timeout(15_000) })
      if (res.status !== 202) {
        await res.body?.cancel()
        return { status: res.status }
      }
      return { status: 202, ids: ((await res.json()) as SubmitResponse).jobs.map((j) => j.id) }
    }
    await mapLimit(Array.from({ length: requests }), 8, async () => {
      const upload: Upload = { key: randomUUID(), acks: [] }
      uploads.push(upload)
      for (let attempt = 0; ; attempt++) {
        const r = await submit(upload.key).catch((err: Error & { cause?: { code?: string } }) => {
          const why = err.name === 'TimeoutError' ? 'timeout' : (err.cause?.code ?? err.name)
          clientErrors[why] = (clientErrors[why] ?? 0) + 1
          return { status: 0, ids: undefined }
        })
        clientSaw[r.status] = (clientSaw[r.status] ?? 0) + 1
        if (r.ids) {
          upload.acks.push(r.ids)
          ackTimes.push(performance.now())
          // A retry of an acknowledged key must give the same jobs: ask once more for every 10th.
          if (uploads.length % 10 === 0) {
            const again = await submit(upload.key).catch(() => ({ status: 0, ids: undefined }))
            if (again.ids) upload.acks.push(again.ids)
          }
          if (opts.fault && !fault && ackTimes.length >= requests * 0.3) {
            const name = opts.fault
            const at = performance.now()
            fault = injectFault(rig, name, log).then(async (o) => {
              // Recovered: the rig whole again and an upload acknowledged after that.
              await waitFor('an upload acknowledged after the fault', 60_000, () => ackTimes.some((t) => t > o.healedAt) || ackTimes.length >= requests, 100).catch(() => undefined)
              const after = ackTimes.find((t) => t > o.healedAt) ?? performance.now()
              const end = Math.max(after, o.healedAt)
              // A stall only while the load still ran (it may have ended before the rig was whole).
              const loadEnd = ackTimes.length >= requests ? Math.max(...ackTimes) : end
              return { name, recoveredInS: round((end - at) / 1000), longestStallS: round(longestGapMs(ackTimes, at, Math.min(end, loadEnd)) / 1000), notes: o.notes }
            })
          }
          return
        }
        if (attempt > 2_000) throw new Error(`upload ${upload.key} never acknowledged: last ${r.status}`)
        await sleep(100 + Math.random() * 200)
      }
    })
    const loadS = (performance.now() - loadStart) / 1000
    const faults = fault ? [await fault] : []
    log(`${ackTimes.length} requests acknowledged in ${loadS.toFixed(1)} s; clients saw ${JSON.stringify(clientSaw)}`)

    // Every acknowledged job must end: read the shared database (any node).
    const ids = [...new Set(uploads.flatMap((u) => u.acks.flat()))]
    const statusOf = new Map<string, string>()
    const readStatus = async () => {
      const node = rig.galera.find((g) => g.alive) ?? rig.galera[0]!
      const conn = await createConnection({ host: node.ip, user: DB_USER, database: DB_NAME })
      try {
        const [rows] = await conn.query('SELECT id, status FROM jobs')
        for (const r of rows as { id: string; status: string }[]) statusOf.set(r.id, r.status)
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
    const perNode: Record<string, { certFailures: number; bfAborts: number }> = {}
    for (const g of rig.galera) {
      await g.status().catch(() => undefined)
      perNode[g.name] = g.conflicts
    }
    const verdict = checkRun(uploads, statusOf, [...fleetLog.holds, ...(rig.workers?.holds ?? [])], faults)
    const byStatus: Record<string, number> = {}
    for (const id of ids) byStatus[statusOf.get(id) ?? 'missing'] = (byStatus[statusOf.get(id) ?? 'missing'] ?? 0) + 1
    return {
      ...verdict,
      galera: { ...sumConflicts(perNode), perNode, syncWait: opts.syncWait, byStatus, jobsInDatabase: statusOf.size },
      writers: opts.writers,
      jobsPerS: round(verdict.acknowledged / loadS),
      clientSaw,
      clientErrors,
      seconds: round((performance.now() - started) / 1000),
      leftBehind: [],
    }
  } finally {
    clearInterval(sampler)
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
