import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely'
import type { Dialect } from './create-db.ts'
import type { Database, JobRow, JobStatus, NewJob } from './schema.ts'

// One query per function, no business rules; `now` is always a parameter.
type Conn = Kysely<Database> | Transaction<Database>

// Bounds statement size (MariaDB's max_allowed_packet, SQLite's 32 766 bound parameters).
const ROWS_PER_STATEMENT = 500

/**
 * A derived table `v(<columns>)` of literal rows, to join an UPDATE against: each row gets its own values
 * through one primary-key lookup. (A `CASE id WHEN …` of N branches costs N comparisons per row: 60–160 ms
 * for 500 rows on MariaDB here.)
 */
function literalTable(dialect: Dialect, columns: string[], rows: (string | number)[][]) {
  const values = sql.join(rows.map((r) => sql`(${sql.join(r)})`))
  // One table value constructor, named through a CTE (MariaDB names a bare VALUES table's columns after
  // its first row); a UNION ALL of N selects would be N query blocks to parse and plan.
  if (dialect === 'mariadb') return sql`(with v(${sql.raw(columns.join(', '))}) as (values ${values}) select * from v) as v`
  return sql`(select ${sql.raw(columns.map((c, i) => `column${i + 1} as ${c}`).join(', '))} from (values ${values})) as v`
}

/** `UPDATE jobs … SET <assignments> FROM v WHERE jobs.id = v.id AND <condition>`, in each dialect's words. */
async function updateJoined(trx: Transaction<Database>, dialect: Dialect, v: RawBuilder<unknown>, set: RawBuilder<unknown>, where: RawBuilder<unknown>): Promise<number> {
  const r = dialect === 'sqlite'
    ? await sql`update jobs set ${set} from ${v} where jobs.id = v.id and ${where}`.execute(trx)
    : await sql`update jobs join ${v} on jobs.id = v.id set ${set} where ${where}`.execute(trx)
  return Number(r.numAffectedRows ?? 0n)
}

export async function insertJobs(db: Conn, jobs: NewJob[]): Promise<void> {
  for (let i = 0; i < jobs.length; i += ROWS_PER_STATEMENT) await db.insertInto('jobs').values(jobs.slice(i, i + ROWS_PER_STATEMENT)).execute()
}

export function findJob(db: Conn, id: string): Promise<JobRow | undefined> {
  return db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst()
}

/** Newest first; `before` is the id of the last job of the previous page. 'queued' includes 'delayed'. */
export function listJobs(db: Conn, opts: { limit: number; before?: string; status?: JobStatus; owner?: string }): Promise<JobRow[]> {
  let q = db.selectFrom('jobs').selectAll().orderBy('id', 'desc').limit(opts.limit)
  if (opts.owner !== undefined) q = q.where('owner_key_id', '=', opts.owner)
  if (opts.before) q = q.where('id', '<', opts.before)
  if (opts.status === 'queued') q = q.where('status', 'in', ['queued', 'delayed'])
  else if (opts.status) q = q.where('status', '=', opts.status)
  return q.execute()
}

export type QueuedJob = Pick<JobRow, 'id' | 'lease_token' | 'attempts' | 'content_type' | 'submitted_at' | 'available_at' | 'has_opinions' | 'model_version_id'>

/** The highest priority waiting in the shared queue (undefined when none): the first entry of the claim index. */
export async function highestQueuedPriority(db: Conn): Promise<number | undefined> {
  const r = await db.selectFrom('jobs').select('priority').where('status', '=', 'queued').orderBy('priority', 'desc').limit(1).executeTakeFirst()
  return r === undefined ? undefined : Number(r.priority)
}

/** Row locks: MariaDB takes them; SQLite has a single writer (the transaction itself) and no FOR UPDATE. */
const locks = (dialect: Dialect) => dialect === 'mariadb'

/**
 * The next queued jobs in claim order (highest priority, then oldest), served by `jobs_claim_idx`. On
 * MariaDB the rows are locked, skipping rows another coordinator is claiming, so claims never wait.
 */
export function selectQueuedForUpdate(trx: Transaction<Database>, dialect: Dialect, limit: number): Promise<QueuedJob[]> {
  const q = trx.selectFrom('jobs').select(['id', 'lease_token', 'attempts', 'content_type', 'submitted_at', 'available_at', 'has_opinions', 'model_version_id'])
    .where('status', '=', 'queued')
    .orderBy('priority', 'desc').orderBy('id', 'asc').limit(limit)
  return (locks(dialect) ? q.forUpdate().skipLocked() : q).execute()
}

/** Leases claimed jobs, each to its worker, in one statement: bumps the fencing token and the attempt count. */
export async function leaseJobs(trx: Transaction<Database>, dialect: Dialect, leases: { id: string; workerId: string }[], now: number, expiresAt: number, untrusted = false): Promise<number> {
  let leased = 0
  for (let i = 0; i < leases.length; i += ROWS_PER_STATEMENT) {
    const chunk = leases.slice(i, i + ROWS_PER_STATEMENT).map((l) => [l.id, l.workerId])
    leased += await updateJoined(trx, dialect, literalTable(dialect, ['id', 'value'], chunk),
      sql`status = 'running', worker_id = v.value, lease_token = lease_token + 1, attempts = attempts + 1, started_at = ${now}, lease_expires_at = ${expiresAt}, lease_untrusted = ${untrusted ? 1 : 0}`,
      sql`jobs.status = 'queued'`)
  }
  return leased
}

export type LeaseState = Pick<JobRow, 'id' | 'status' | 'lease_token' | 'worker_id' | 'attempts' | 'max_attempts' | 'lease_untrusted'>

/**
 * The lease state of these jobs, locked until the transaction ends (MariaDB), so that a decision taken
 * on it (accept a result, take a lease back) cannot race another coordinator's.
 */
export function lockLeaseStates(trx: Transaction<Database>, dialect: Dialect, ids: string[]): Promise<LeaseState[]> {
  if (ids.length === 0) return Promise.resolve([])
  const q = trx.selectFrom('jobs').select(['id', 'status', 'lease_token', 'worker_id', 'attempts', 'max_attempts', 'lease_untrusted']).where('id', 'in', ids)
  return (locks(dialect) ? q.forUpdate() : q).execute()
}

/** Running jobs whose lease ran out, or held by these workers (gone), locked for the take-back decision. */
export function lockLostLeases(trx: Transaction<Database>, dialect: Dialect, scope: { workerIds?: string[]; expiredAt?: number }): Promise<LeaseState[]> {
  if (scope.workerIds?.length === 0) return Promise.resolve([])
  let q = trx.selectFrom('jobs').select(['id', 'status', 'lease_token', 'worker_id', 'attempts', 'max_attempts', 'lease_untrusted']).where('status', '=', 'running')
  if (scope.workerIds) q = q.where('worker_id', 'in', scope.workerIds)
  if (scope.expiredAt !== undefined) q = q.where('lease_expires_at', '<=', scope.expiredAt)
  return (locks(dialect) ? q.forUpdate() : q).execute()
}

/**
 * Results written only where each is from the current holder with the current token (distinct job ids);
 * how many rows took one. Equal to the batch: all were current, no need to ask row by row.
 */
export async function completeJobsFenced(trx: Transaction<Database>, dialect: Dialect, results: { id: string; token: number; workerId: string; resultJson: string }[], now: number): Promise<number> {
  let written = 0
  for (let i = 0; i < results.length; i += ROWS_PER_STATEMENT) {
    const chunk = results.slice(i, i + ROWS_PER_STATEMENT).map((r) => [r.id, r.token, r.workerId, r.resultJson])
    written += await updateJoined(trx, dialect, literalTable(dialect, ['id', 'token', 'worker', 'value'], chunk),
      sql`status = 'succeeded', finished_at = ${now}, lease_expires_at = null, error_code = null, error_message = null, result_json = v.value`,
      sql`jobs.status = 'running' and jobs.lease_token = v.token and jobs.worker_id = v.worker`)
  }
  return written
}

/** Leases taken back (checked under lock): back to the queue at once, or dead when every attempt is used. */
export async function takeBackLeases(trx: Transaction<Database>, decided: { requeue: string[]; requeueUncounted: string[]; dead: string[] }, now: number): Promise<void> {
  if (decided.requeue.length > 0) {
    await trx.updateTable('jobs').set({ status: 'queued', worker_id: null, lease_expires_at: null, available_at: now })
      .where('id', 'in', decided.requeue).where('status', '=', 'running').execute()
  }
  if (decided.requeueUncounted.length > 0) {
    await trx.updateTable('jobs').set((eb) => ({ status: 'queued', worker_id: null, lease_expires_at: null, available_at: now, lease_untrusted: 0, attempts: eb('attempts', '-', 1) }))
      .where('id', 'in', decided.requeueUncounted).where('status', '=', 'running').execute()
  }
  if (decided.dead.length > 0) {
    await trx.updateTable('jobs')
      .set({ status: 'dead', finished_at: now, lease_expires_at: null, error_code: 'ATTEMPTS_EXHAUSTED', error_message: 'every attempt was lost (worker gone or lease expired); the last error, if any, was overwritten' })
      .where('id', 'in', decided.dead).where('status', '=', 'running').execute()
  }
}

type Fence = { id: string; token: number; workerId: string }
const fenced = (db: Conn, f: Fence) => db.updateTable('jobs')
  .where('id', '=', f.id).where('lease_token', '=', f.token).where('worker_id', '=', f.workerId).where('status', '=', 'running')

export async function failJob(db: Conn, f: Fence, now: number, code: string, message: string): Promise<boolean> {
  const r = await fenced(db, f)
    .set({ status: 'failed', finished_at: now, lease_expires_at: null, error_code: code, error_message: message.slice(0, 1000) })
    .executeTakeFirst()
  return r.numUpdatedRows === 1n
}

/** A retryable failure: the job waits out its back-off as 'delayed', keeping the error for the record. */
export async function delayLeased(db: Conn, f: Fence, availableAt: number, code: string, message: string): Promise<boolean> {
  const r = await fenced(db, f)
    .set({ status: 'delayed', worker_id: null, lease_expires_at: null, available_at: availableAt, error_code: code, error_message: message.slice(0, 1000) })
    .executeTakeFirst()
  return r.numUpdatedRows === 1n
}

/** A retryable error that used the last attempt: the job is dead, with the worker's error. */
export async function markDead(db: Conn, f: Fence, now: number, code: string, message: string): Promise<boolean> {
  const r = await fenced(db, f)
    .set({ status: 'dead', finished_at: now, lease_expires_at: null, error_code: code, error_message: message.slice(0, 1000) })
    .executeTakeFirst()
  return r.numUpdatedRows === 1n
}

/** A draining worker hands back a job it never started: no attempt is counted. */
export async function releaseLeased(db: Conn, f: Fence, now: number): Promise<boolean> {
  const r = await fenced(db, f)
    .set((eb) => ({ status: 'queued', worker_id: null, lease_expires_at: null, available_at: now, attempts: eb('attempts', '-', 1) }))
    .executeTakeFirst()
  return r.numUpdatedRows === 1n
}

/** Delayed jobs whose back-off is over become claimable. */
export async function promoteDueJobs(db: Conn, now: number): Promise<number> {
  const r = await db.updateTable('jobs').set({ status: 'queued' }).where('status', '=', 'delayed').where('available_at', '<=', now).executeTakeFirst()
  return Number(r.numUpdatedRows)
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

/**
 * Ids of the oldest final jobs submitted before `beforeId` (a uuid v7 of the cut-off time), at most
 * `limit`: read along the primary key, which is in submission order, so no index of its own is kept up to
 * date on every result.
 */
export async function finalJobsBefore(db: Conn, beforeId: string, limit: number): Promise<string[]> {
  const rows = await db.selectFrom('jobs').select('id').where('id', '<', beforeId).where('status', 'in', ['succeeded', 'failed', 'canceled', 'dead'])
    .orderBy('id').limit(limit).execute()
  return rows.map((r) => r.id)
}

export async function deleteJobs(db: Conn, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0
  const r = await db.deleteFrom('jobs').where('id', 'in', ids).executeTakeFirst()
  return Number(r.numDeletedRows)
}

/**
 * Jobs waiting and running, counted on the index and capped, so a metrics scrape costs the same with a
 * million finished jobs in the table (finished ones are counted by the coordinators' own counters).
 */
export async function countActive(db: Conn, cap: number): Promise<{ queued: number; delayed: number; running: number }> {
  const count = async (status: JobStatus) => {
    const r = await db.selectFrom((eb) => eb.selectFrom('jobs').select('id').where('status', '=', status).limit(cap).as('capped'))
      .select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
    return Number(r.n)
  }
  const [queued, delayed, running] = await Promise.all([count('queued'), count('delayed'), count('running')])
  return { queued, delayed, running }
}
