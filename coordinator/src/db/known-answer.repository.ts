import type { Kysely, Transaction } from 'kysely'
import type { Database } from './schema.ts'

type Conn = Kysely<Database> | Transaction<Database>

/**
 * Keeps the images of these jobs, with the trusted top-1, as known answers — only where the job's owner lets
 * volunteers see its images. Runs in the result's commit, before the image is deleted.
 */
export async function captureKnownAnswers(db: Conn, answers: { jobId: string; top1: number }[], now: number): Promise<void> {
  for (const a of answers) {
    await db.insertInto('known_answers')
      .columns(['job_id', 'bytes', 'top1', 'created_at', 'model_version_id', 'content_type'])
      .expression((eb) => eb.selectFrom('images').innerJoin('jobs', 'jobs.id', 'images.job_id')
        .select((s) => ['images.job_id', 'images.bytes', s.val(a.top1).as('top1'), s.val(now).as('created_at'), 'jobs.model_version_id', 'jobs.content_type'])
        .where('images.job_id', '=', a.jobId).where('jobs.volunteers_allowed', '=', 1))
      .execute()
  }
}

export async function listKnownAnswers(db: Conn, limit: number): Promise<{ job_id: string; bytes: Buffer; top1: number; model_version_id: string | null; content_type: string | null }[]> {
  const rows = await db.selectFrom('known_answers').select(['job_id', 'bytes', 'top1', 'model_version_id', 'content_type']).orderBy('created_at', 'desc').limit(limit).execute()
  return rows.map((r) => ({ job_id: r.job_id, top1: Number(r.top1), model_version_id: r.model_version_id, content_type: r.content_type, bytes: Buffer.isBuffer(r.bytes) ? r.bytes : Buffer.from(r.bytes as Uint8Array) }))
}

export async function countKnownAnswers(db: Conn): Promise<number> {
  const r = await db.selectFrom('known_answers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  return Number(r.n)
}

/** Known answers age out like finished jobs, so the pool renews itself and no image is kept for ever. */
export async function deleteKnownAnswersBefore(db: Conn, before: number): Promise<number> {
  const r = await db.deleteFrom('known_answers').where('created_at', '<', before).executeTakeFirst()
  return Number(r.numDeletedRows)
}
