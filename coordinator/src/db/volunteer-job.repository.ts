import { sql, type Kysely, type Transaction } from 'kysely'
import type { Dialect } from './create-db.ts'
import type { QueuedJob } from './job.repository.ts'
import type { Database } from './schema.ts'

// The job queries only volunteer tabs need; one query per function, `now` always a parameter.
type Conn = Kysely<Database> | Transaction<Database>
type Fence = { id: string; token: number; workerId: string }

/**
 * The next jobs one volunteer may answer, in claim order: its key allows volunteers, no disagreement waits
 * for a trusted worker, and no earlier answer came from the same identity or network (the pure rule is
 * `mayAnswer` in trust/verification.ts). Locked, skipping rows others are claiming, on MariaDB.
 */
export async function selectQueuedForVolunteer(trx: Transaction<Database>, dialect: Dialect, limit: number, who: { identity: string; network: string | null }, models: string[]): Promise<QueuedJob[]> {
  // Only versions whose input the coordinator can prepare as volunteers receive it (trust/volunteer-models.ts).
  if (models.length === 0) return []
  const q = trx.selectFrom('jobs').select(['id', 'lease_token', 'attempts', 'content_type', 'submitted_at', 'available_at', 'has_opinions', 'model_version_id'])
    .where('status', '=', 'queued').where('volunteers_allowed', '=', 1).where('needs_trusted', '=', 0).where('model_version_id', 'in', models)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('job_opinions as o').select('o.job_id').whereRef('o.job_id', '=', 'jobs.id')
      .where((eb) => who.network === null
        ? eb.val(true)
        : eb.or([eb('o.identity', '=', who.identity), eb('o.network', '=', who.network), eb('o.network', 'is', null)])))))
    .orderBy('priority', 'desc').orderBy('id', 'asc').limit(limit)
  return await (dialect === 'mariadb' ? q.forUpdate().skipLocked() : q).execute()
}

const fenced = (db: Conn, f: Fence) => db.updateTable('jobs')
  .where('id', '=', f.id).where('lease_token', '=', f.token).where('worker_id', '=', f.workerId).where('status', '=', 'running')

/**
 * A volunteer answered, and the job is not final yet: queued again for the next answer, with no attempt
 * used (answering is not failing). `needsTrusted` when volunteers disagree or one said it failed.
 */
export async function requeueForAnotherAnswer(db: Conn, f: Fence, now: number, needsTrusted: boolean, keptOpinion: boolean): Promise<boolean> {
  const r = await fenced(db, f)
    .set((eb) => ({
      status: 'queued', worker_id: null, lease_expires_at: null, available_at: now, lease_untrusted: 0, needs_trusted: needsTrusted ? 1 : 0,
      attempts: eb('attempts', '-', 1), ...(keptOpinion ? { has_opinions: 1 } : {}),
    }))
    .executeTakeFirst()
  return r.numUpdatedRows === 1n
}

/** The coordinator cannot make a model input of this image: trusted workers (whose browsers may) take it. */
export async function keepFromVolunteers(db: Conn, f: Fence, now: number): Promise<boolean> {
  const r = await fenced(db, f)
    .set((eb) => ({ status: 'queued', worker_id: null, lease_expires_at: null, available_at: now, lease_untrusted: 0, volunteers_allowed: 0, attempts: eb('attempts', '-', 1) }))
    .executeTakeFirst()
  return r.numUpdatedRows === 1n
}

/**
 * After a quarantine forgot some answers: a job that waited for a trusted worker because volunteers disagreed
 * goes back to volunteers when the answers left agree (or none are left).
 */
export async function reopenSettledByOpinions(db: Conn, jobIds: string[]): Promise<void> {
  if (jobIds.length === 0) return
  await db.updateTable('jobs').set({ needs_trusted: 0 })
    .where('id', 'in', jobIds).where('needs_trusted', '=', 1).where('status', 'in', ['queued', 'running'])
    .where((eb) => eb(eb.selectFrom('job_opinions as o').select(sql<number>`count(distinct o.top1)`.as('n')).whereRef('o.job_id', '=', 'jobs.id'), '<=', 1))
    .where((eb) => eb.exists(eb.selectFrom('job_opinions as o').select('o.job_id').whereRef('o.job_id', '=', 'jobs.id')))
    .execute()
}
