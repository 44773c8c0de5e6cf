import type { Kysely, Transaction } from 'kysely'
import type { Database, JobOpinionTable } from './schema.ts'

type Conn = Kysely<Database> | Transaction<Database>

export type OpinionRow = JobOpinionTable

export async function insertOpinion(db: Conn, row: OpinionRow): Promise<void> {
  await db.insertInto('job_opinions').values(row).execute()
}

/** Volunteers' answers to these jobs, oldest first. */
export function opinionsOf(db: Conn, jobIds: string[]): Promise<OpinionRow[]> {
  if (jobIds.length === 0) return Promise.resolve([])
  return db.selectFrom('job_opinions').selectAll().where('job_id', 'in', jobIds).orderBy('created_at').orderBy('identity').execute()
}

export async function deleteOpinionsOfJobs(db: Conn, jobIds: string[]): Promise<void> {
  if (jobIds.length > 0) await db.deleteFrom('job_opinions').where('job_id', 'in', jobIds).execute()
}

/** Forgets every answer of one identity (quarantined); the jobs they were about. */
export async function deleteOpinionsBy(db: Conn, identity: string): Promise<string[]> {
  const rows = await db.selectFrom('job_opinions').select('job_id').where('identity', '=', identity).execute()
  await db.deleteFrom('job_opinions').where('identity', '=', identity).execute()
  return rows.map((r) => r.job_id)
}
