import type { Kysely, Transaction } from 'kysely'
import type { Database, JobRow, JobStatus, NewJob } from './schema.ts'

// One query per function, no business rules; `now` is always a parameter.
type Conn = Kysely<Database> | Transaction<Database>

export async function insertJobs(db: Conn, jobs: NewJob[]): Promise<void> {
  if (jobs.length > 0) await db.insertInto('jobs').values(jobs).execute()
}

export function findJob(db: Conn, id: string): Promise<JobRow | undefined> {
  return db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst()
}

/** Which of these ids are jobs (in any state). */
export async function existingJobIds(db: Conn, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return []
  const rows = await db.selectFrom('jobs').select('id').where('id', 'in', ids).execute()
  return rows.map((r) => r.id)
}

/** Newest first; `before` is the id of the last job of the previous page. */
export function listJobs(db: Conn, opts: { limit: number; before?: string; status?: JobStatus; owner?: string }): Promise<JobRow[]> {
  let q = db.selectFrom('jobs').selectAll().orderBy('id', 'desc').limit(opts.limit)
  if (opts.owner !== undefined) q = q.where('owner_key_id', '=', opts.owner)
  if (opts.before) q = q.where('id', '<', opts.before)
  if (opts.status) q = q.where('status', '=', opts.status)
  return q.execute()
}

export type QueuedJob = Pick<JobRow, 'id' | 'lease_token' | 'attempts' | 'content_type' | 'submitted_at' | 'available_at'>

/**
 * Oldest queued jobs of the highest priority. Row locks only make sense inside a transaction, so the
 * signature asks for one; `skipLocked` lets several coordinators claim from one MariaDB without waiting.
 * SQLite has a single writer and no FOR UPDATE, so it must be false there.
 */
export function selectQueuedForUpdate(trx: Transaction<Database>, limit: number, skipLocked: boolean, now: number): Promise<QueuedJob[]> {
  let q = trx.selectFrom('jobs').select(['id', 'lease_token', 'attempts', 'content_type', 'submitted_at', 'available_at'])
    .where('status', '=', 'queued').where('available_at', '<=', now)
    .orderBy('priority', 'desc').orderBy('id', 'asc').limit(limit)
  if (skipLocked) q = q.forUpdate().skipLocked()
  return q.execute()
}

/** Lease the given queued jobs to one worker: bumps the fencing token and the attempt count. */
export async function leaseJobs(trx: Transaction<Database>, ids: string[], workerId: string, now: number, expiresAt: number): Promise<number> {
  if (ids.length === 0) return 0
  const r = await trx.updateTable('jobs')
    .set((eb) => ({
      status: 'running',
      worker_id: workerId,
      lease_token: eb('lease_token', '+', 1),
      attempts: eb('attempts', '+', 1),
      started_at: now,
      lease_expires_at: expiresAt,
    }))
    .where('id', 'in', ids).where('status', '=', 'queued')
    .executeTakeFirst()
  return Number(r.numUpdatedRows)
}

type Fence = { id: string; token: number; workerId: string }

/** Fencing: only the current lease holder with the current token can finish the job. false = stale. */
export async function completeJob(db: Conn, f: Fence, now: number, resultJson: string): Promise<boolean> {
  const r = await db.updateTable('jobs')
    .set({ status: 'succeeded', finished_at: now, result_json: resultJson, lease_expires_at: null, error_code: null, error_message: null })
    .where('id', '=', f.id).where('lease_token', '=', f.token).where('worker_id', '=', f.workerId).where('status', '=', 'running')
    .executeTakeFirst()
  return r.numUpdatedRows === 1n
}

export async function failJob(db: Conn, f: Fence, now: number, code: string, message: string): Promise<boolean> {
  const r = await db.updateTable('jobs')
    .set({ status: 'failed', finished_at: now, lease_expires_at: null, error_code: code, error_message: message.slice(0, 1000) })
    .where('id', '=', f.id).where('lease_token', '=', f.token).where('worker_id', '=', f.workerId).where('status', '=', 'running')
    .executeTakeFirst()
  return r.numUpdatedRows === 1n
}

/** Put one leased job back in the queue (a retryable failure), keeping the error for the record. */
export async function requeueLeased(db: Conn, f: Fence, availableAt: number, code: string, message: string): Promise<boolean> {
  const r = await db.updateTable('jobs')
    .set({ status: 'queued', worker_id: null, lease_expires_at: null, available_at: availableAt, error_code: code, error_message: message.slice(0, 1000) })
    .where('id', '=', f.id).where('lease_token', '=', f.token).where('worker_id', '=', f.workerId).where('status', '=', 'running')
    .executeTakeFirst()
  return r.numUpdatedRows === 1n
}

export type LostLease = { dead: number; requeued: number }

/**
 * Leases lost without an answer (worker gone, lease expired) go back to the queue at once, except jobs
 * that used all their attempts: those are dead. A poison image that kills every page it reaches ends here.
 */
async function takeBackLeases(db: Conn, scope: { workerIds?: string[]; expiredAt?: number }, now: number): Promise<LostLease> {
  if (scope.workerIds?.length === 0) return { dead: 0, requeued: 0 }
  const running = () => {
    let q = db.updateTable('jobs').where('status', '=', 'running')
    if (scope.workerIds) q = q.where('worker_id', 'in', scope.workerIds)
    if (scope.expiredAt !== undefined) q = q.where('lease_expires_at', '<=', scope.expiredAt)
    return q
  }
  const dead = await running()
    .set({ status: 'dead', finished_at: now, lease_expires_at: null, error_code: 'ATTEMPTS_EXHAUSTED', error_message: 'every attempt was lost (worker gone or lease expired); the last error, if any, was overwritten' })
    .whereRef('attempts', '>=', 'max_attempts')
    .executeTakeFirst()
  const requeued = await running()
    .set({ status: 'queued', worker_id: null, lease_expires_at: null, available_at: now })
    .executeTakeFirst()
  return { dead: Number(dead.numUpdatedRows), requeued: Number(requeued.numUpdatedRows) }
}

/** Every running job of a worker that is gone goes back to the queue at once. */
export function requeueWorkerJobs(db: Conn, workerIds: string[], now: number): Promise<LostLease> {
  return takeBackLeases(db, { workerIds }, now)
}

/** Leases that ran out (the holder hung, or its coordinator died) go back to the queue. */
export function requeueExpiredLeases(db: Conn, now: number): Promise<LostLease> {
  return takeBackLeases(db, { expiredAt: now }, now)
}

/** A retryable error that used the last attempt: the job is dead, with the worker's error. */
export async function markDead(db: Conn, f: Fence, now: number, code: string, message: string): Promise<boolean> {
  const r = await db.updateTable('jobs')
    .set({ status: 'dead', finished_at: now, lease_expires_at: null, error_code: code, error_message: message.slice(0, 1000) })
    .where('id', '=', f.id).where('lease_token', '=', f.token).where('worker_id', '=', f.workerId).where('status', '=', 'running')
    .executeTakeFirst()
  return r.numUpdatedRows === 1n
}

/** A draining worker hands back a job it never started: no attempt is counted. */
export async function releaseLeased(db: Conn, f: Fence, now: number): Promise<boolean> {
  const r = await db.updateTable('jobs')
    .set((eb) => ({ status: 'queued', worker_id: null, lease_expires_at: null, available_at: now, attempts: eb('attempts', '-', 1) }))
    .where('id', '=', f.id).where('lease_token', '=', f.token).where('worker_id', '=', f.workerId).where('status', '=', 'running')
    .executeTakeFirst()
  return r.numUpdatedRows === 1n
}

/** Cancel a job that is not final yet; the token guard makes a concurrent completion win or lose cleanly. */
export async function cancelJob(db: Conn, id: string, expected: { status: JobStatus; token: number }, now: number): Promise<boolean> {
  const r = await db.updateTable('jobs')
    .set({ status: 'canceled', finished_at: now, lease_expires_at: null, error_code: null, error_message: null })
    .where('id', '=', id).where('status', '=', expected.status).where('lease_token', '=', expected.token)
    .executeTakeFirst()
  return r.numUpdatedRows === 1n
}

/** A dead job gets a fresh set of attempts. */
export async function requeueDead(db: Conn, id: string, now: number): Promise<boolean> {
  const r = await db.updateTable('jobs')
    .set({ status: 'queued', attempts: 0, available_at: now, finished_at: null, worker_id: null, error_code: null, error_message: null })
    .where('id', '=', id).where('status', '=', 'dead')
    .executeTakeFirst()
  return r.numUpdatedRows === 1n
}

export async function countByStatus(db: Conn): Promise<Record<JobStatus, number>> {
  const rows = await db.selectFrom('jobs').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute()
  const counts: Record<JobStatus, number> = { queued: 0, running: 0, succeeded: 0, failed: 0, canceled: 0, dead: 0 }
  for (const r of rows) counts[r.status] = Number(r.n)
  return counts
}
