import { durably, isUniqueViolation, type Db } from '../db/create-db.ts'
import * as eventsRepo from '../db/event.repository.ts'
import * as idemRepo from '../db/idempotency.repository.ts'
import * as imagesRepo from '../db/image.repository.ts'
import * as jobsRepo from '../db/job.repository.ts'
import type { IdempotencyKeyTable, NewJob } from '../db/schema.ts'
import type { Clock } from './clock.ts'
import type { ClusterSignals } from './cluster-signals.ts'
import type { DirectJob, DirectLease } from './dispatch-pump.ts'

export interface PendingUpload {
  jobs: NewJob[]
  images: { job_id: string; bytes: Buffer }[]
  idempotencyKey?: IdempotencyKeyTable
}

/**
 * stored: committed (`queued` of its jobs wait in the shared queue; the others were leased to a free worker
 * of this coordinator in the same commit). keyTaken: another request stored the same Idempotency-Key first.
 */
export type UploadOutcome = { stored: true; queued: number } | { stored: false; keyTaken: true }

/** How the committer leases jobs to free workers in their upload's own commit (the dispatch pump). */
export interface DirectDispatch {
  reserve(models: string[]): DirectLease | undefined
  sendDirect(lease: DirectLease, leased: DirectJob[], now: number): void
  release(lease: DirectLease): void
}

type Waiting = { upload: PendingUpload; done: (o: UploadOutcome) => void; fail: (err: unknown) => void }

// Later uploads join a group only while it stays under these, so a commit stays short. The first always
// goes in (a request is all or nothing): a commit's images are at most max(this, one request's), which
// db/write-set-bound.ts derives from the config and the startup check compares with the server's limits.
export const MAX_IMAGE_BYTES_PER_COMMIT = 16 * 1024 * 1024
export const MAX_JOBS_PER_COMMIT = 2_000
const MAX_COMMITS_IN_FLIGHT = 2

/**
 * Group commit of uploads: requests that arrive while a transaction commits share the next one (jobs,
 * images, idempotency keys and one signal to the other coordinators), so one fsync makes many uploads
 * durable. Each request still learns its own fate: a key conflict in a group is retried request by request.
 */
export class UploadCommitter {
  private waiting: Waiting[] = []
  private inFlight = 0

  constructor(private readonly db: Db, private readonly signals: ClusterSignals, private readonly clock: Clock, private readonly direct?: DirectDispatch) {}

  commit(upload: PendingUpload): Promise<UploadOutcome> {
    return new Promise((done, fail) => {
      this.waiting.push({ upload, done, fail })
      this.next()
    })
  }

  private next(): void {
    while (this.inFlight < MAX_COMMITS_IN_FLIGHT && this.waiting.length > 0) {
      const group = this.takeGroup()
      this.inFlight++
      void this.commitGroup(group).finally(() => {
        this.inFlight--
        this.next()
      })
    }
  }

  private takeGroup(): Waiting[] {
    let bytes = 0
    let jobs = 0
    let n = 0
    for (const w of this.waiting) {
      const b = w.upload.images.reduce((s, i) => s + i.bytes.length, 0)
      if (n > 0 && (bytes + b > MAX_IMAGE_BYTES_PER_COMMIT || jobs + w.upload.jobs.length > MAX_JOBS_PER_COMMIT)) break
      bytes += b
      jobs += w.upload.jobs.length
      n++
    }
    return this.waiting.splice(0, n)
  }

  private async commitGroup(group: Waiting[]): Promise<void> {
    try {
      const queued = await this.write(group.map((w) => w.upload))
      for (const w of group) w.done({ stored: true, queued: w.upload.jobs.filter((j) => queued.has(j.id)).length })
    } catch (err) {
      if (group.length > 1 && isUniqueViolation(err)) {
        // Rolled back as a whole because of one request's key: give each its own transaction.
        for (const w of group) await this.commitGroup([w])
        return
      }
      if (isUniqueViolation(err) && group[0]?.upload.idempotencyKey) return group[0].done({ stored: false, keyTaken: true })
      for (const w of group) w.fail(err)
    }
  }

  /** One transaction for the group; the ids of the jobs left in the queue (the others went to a worker directly). */
  private async write(uploads: PendingUpload[]): Promise<Set<string>> {
    const now = this.clock.now()
    const jobs = uploads.flatMap((u) => u.jobs)
    const images = uploads.flatMap((u) => u.images)
    const lease = this.direct?.reserve(jobs.map((j) => j.model_version_id ?? ''))
    let leased: DirectJob[] = []
    try {
      await durably(this.db, async (trx) => {
        const direct = lease ? directLeases(jobs, lease, await jobsRepo.highestQueuedPriority(trx)) : new Map<string, string>()
        const rows = jobs.map((j) => {
          const workerId = direct.get(j.id)
          return workerId ? { ...j, status: 'running' as const, worker_id: workerId, lease_token: 1, attempts: 1, started_at: now, lease_expires_at: now + lease!.leaseMs } : j
        })
        await jobsRepo.insertJobs(trx, rows)
        await imagesRepo.insertImages(trx, images)
        await idemRepo.insertKeys(trx, uploads.flatMap((u) => (u.idempotencyKey ? [u.idempotencyKey] : [])))
        if (direct.size < jobs.length) await eventsRepo.appendEvents(trx, [this.signals.row({ kind: 'jobs.queued' }, now)])
        const bytes = new Map(images.map((i) => [i.job_id, i.bytes]))
        leased = rows.flatMap((r) => (r.worker_id ? [{ jobId: r.id, workerId: r.worker_id, contentType: r.content_type, submittedAt: now, model: r.model_version_id ?? '', image: bytes.get(r.id)! }] : []))
      })
    } catch (err) {
      if (lease) this.direct!.release(lease)
      throw err
    }
    if (lease) this.direct!.sendDirect(lease, leased, now)
    const direct = new Set(leased.map((l) => l.jobId))
    return new Set(jobs.filter((j) => !direct.has(j.id)).map((j) => j.id))
  }
}

/**
 * Pure: which new jobs go straight to the reserved slots (job id → worker id). Only jobs of a higher
 * priority than anything already waiting in the shared queue may skip it; highest priority first, then in
 * upload order, as a claim would take them. A job takes a slot planned for its model version if one is
 * left, else any slot (its page loads the version).
 */
export function directLeases(jobs: { id: string; priority: number; model_version_id?: string | null }[], lease: { workerIds: string[]; models?: string[] }, highestQueued: number | undefined): Map<string, string> {
  const eligible = jobs.filter((j) => highestQueued === undefined || j.priority > highestQueued)
    .map((j, order) => ({ j, order }))
    .sort((a, b) => b.j.priority - a.j.priority || a.order - b.order)
    .slice(0, lease.workerIds.length)
  const free = lease.workerIds.map((workerId, i) => ({ workerId, model: lease.models?.[i] }))
  const out = new Map<string, string>()
  for (const { j } of eligible) {
    let at = free.findIndex((s) => s.model === (j.model_version_id ?? undefined))
    if (at < 0) at = 0
    out.set(j.id, free.splice(at, 1)[0]!.workerId)
  }
  return out
}
