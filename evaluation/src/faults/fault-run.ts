import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_MODEL_DIR } from '@hivesight/coordinator'
import type { JobView } from '@hivesight/protocol'
import { mapLimit } from '../client/hivesight-client.ts'
import { percentile } from '../accuracy/accuracy-report.ts'
import { CoordinatorProcess } from './coordinator-process.ts'
import { checkHistory, type AckedUpload, type HistoryCheck } from './history.ts'
import { PrivateMariaDb } from './private-mariadb.ts'
import { AutoWorker, POISON_MARKER, type FleetEvents } from './sim-fleet.ts'
import { uploadWithRetries } from './upload-load.ts'

export interface FaultContext {
  coordinator: CoordinatorProcess
  workers: AutoWorker[]
  events: FleetEvents
  addWorker(): AutoWorker
  /** Seconds from a fault to each affected job running again elsewhere. */
  requeueSeconds: number[]
  notes: string[]
  /** Scale of waits: 1 for the full suite, smaller for the fast subset in npm test. */
  timeScale: number
  mariadb?: PrivateMariaDb
}

export interface Fault {
  id: string
  title: string
  poison?: boolean
  /** Runs on a private MariaDB server that the fault may stop (`ctx.mariadb`). */
  privateMariaDb?: boolean
  inject(ctx: FaultContext): Promise<void>
}

export interface FaultResult extends HistoryCheck {
  id: string
  title: string
  staleAnswersSent: number
  /** What the uploading clients got back, by HTTP status (or network error), retries included. */
  clientSaw: Record<string, number>
  requeueMedianS: number | null
  requeueMaxS: number | null
  notes: string[]
  seconds: number
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))))
    })
  })
}

// A valid 1×1 PNG; each upload appends its key so that every image (and fingerprint) is distinct.
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082', 'hex')

/**
 * One fault against a real coordinator process and simulated workers: upload `jobs` images through
 * clients that retry with Idempotency-Key, inject the fault once ~30 % are acknowledged, wait for every
 * acknowledged job to be final, then check the whole history.
 */
export async function runFault(fault: Fault, opts: { jobs: number; workers: number; timeScale: number; databaseUrl?: string; log?: (m: string) => void }): Promise<FaultResult> {
  const started = Date.now()
  const log = opts.log ?? (() => undefined)
  const dataDir = mkdtempSync(join(tmpdir(), `hivesight-${fault.id}-`))
  const mariadb = fault.privateMariaDb ? new PrivateMariaDb(await freePort()) : undefined
  await mariadb?.start()
  const coordinator = new CoordinatorProcess({ port: await freePort(), dataDir, databaseUrl: mariadb?.url ?? opts.databaseUrl, env: { PING_INTERVAL_MS: '2000', LEASE_MS: '30000' } })
  await coordinator.start()
  const events: FleetEvents = { assigned: [], staleAnswersSent: 0 }
  const wsUrl = `${coordinator.url.replace('http', 'ws')}/ws/worker`
  const workers: AutoWorker[] = []
  const addWorker = () => {
    const w = new AutoWorker(wsUrl, `sim-${workers.length + 1}`, events, { slots: 2, latencyMs: 40 })
    workers.push(w)
    w.start()
    return w
  }
  for (let i = 0; i < opts.workers; i++) addWorker()
  const ctx: FaultContext = { coordinator, workers, events, addWorker, requeueSeconds: [], notes: [], timeScale: opts.timeScale, mariadb }

  const uploads: AckedUpload[] = Array.from({ length: opts.jobs }, (_, i) => ({ key: `${fault.id}-${started}-${i}`, acks: [] }))
  const poisonAt = fault.poison ? Math.floor(opts.jobs / 2) : -1
  const clientSaw: Record<string, number> = {}
  let acked = 0
  let injected: Promise<void> | undefined
  const deadline = Date.now() + 300_000
  try {
    await mapLimit(uploads, 4, async (u, i) => {
      const image = Buffer.concat([PNG, Buffer.from(u.key), i === poisonAt ? POISON_MARKER : Buffer.alloc(0)])
      await uploadWithRetries(coordinator.url, u.key, image, u, deadline, clientSaw)
      // A client that lost the first 202 in a crash retries: answer it again (same key, same ids).
      if (i % 10 === 0) await uploadWithRetries(coordinator.url, u.key, image, u, deadline, clientSaw)
      acked++
      if (!injected && acked >= opts.jobs * 0.3) {
        log(`${fault.id}: injecting after ${acked} acknowledged uploads`)
        injected = fault.inject(ctx)
      }
      await new Promise((r) => setTimeout(r, 10))
    })
    await injected
    log(`${fault.id}: all uploads acknowledged; waiting for every job to finish`)
    const ids = [...new Set(uploads.flatMap((u) => u.acks.flat()))]
    const finals = new Map<string, JobView | undefined>()
    const finalWait = Date.now() + 120_000
    for (;;) {
      const pending = await mapLimit(ids.filter((id) => !finals.has(id)), 16, async (id) => {
        const res = await fetch(`${coordinator.url}/api/v1/jobs/${id}`).catch(() => undefined)
        const job = res?.ok ? ((await res.json()) as JobView) : undefined
        if (job && ['succeeded', 'failed', 'canceled', 'dead'].includes(job.status)) finals.set(id, job)
        return job
      })
      if (pending.every((j) => j && finals.has(j.id)) || Date.now() > finalWait) break
      await new Promise((r) => setTimeout(r, 250))
    }
    const check = checkHistory(uploads, finals, (attempt) => wnidOf(attempt))
    const req = ctx.requeueSeconds
    return {
      id: fault.id, title: fault.title, ...check, staleAnswersSent: events.staleAnswersSent, clientSaw,
      requeueMedianS: req.length ? percentile(req, 50) : null, requeueMaxS: req.length ? Math.max(...req) : null,
      notes: ctx.notes, seconds: (Date.now() - started) / 1000,
    }
  } finally {
    for (const w of workers) w.kill()
    await coordinator.kill('SIGTERM')
    await mariadb?.destroy()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

// The simulated worker answers class index = attempt number; the coordinator maps it through labels.json.
const LABELS = JSON.parse(readFileSync(join(process.env.MODEL_DIR ?? DEFAULT_MODEL_DIR, 'labels.json'), 'utf8')) as { wnid: string | null }[]
const wnidOf = (attempt: number): string => LABELS[attempt]?.wnid ?? `attempt-${attempt}`

/** Seconds from `since` until each job in `jobIds` was assigned again (to anyone) after it. */
export function reassignmentSeconds(events: FleetEvents, jobIds: string[], since: number): number[] {
  return jobIds.flatMap((id) => {
    const next = events.assigned.find((a) => a.jobId === id && a.at > since)
    return next ? [(next.at - since) / 1000] : []
  })
}
