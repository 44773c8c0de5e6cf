import type { Kysely, Transaction } from 'kysely'
import type { Database, WorkerCredentialTable } from './schema.ts'

type Conn = Kysely<Database> | Transaction<Database>

export async function insertWorkerCredential(db: Conn, row: WorkerCredentialTable): Promise<void> {
  await db.insertInto('worker_credentials').values(row).execute()
}

export function findWorkerCredential(db: Conn, name: string): Promise<WorkerCredentialTable | undefined> {
  return db.selectFrom('worker_credentials').selectAll().where('name', '=', name).executeTakeFirst()
}

export function listWorkerCredentials(db: Conn): Promise<WorkerCredentialTable[]> {
  return db.selectFrom('worker_credentials').selectAll().orderBy('created_at').execute()
}

export async function revokeWorkerCredential(db: Conn, name: string, now: number): Promise<boolean> {
  const r = await db.updateTable('worker_credentials').set({ revoked_at: now }).where('name', '=', name).where('revoked_at', 'is', null).executeTakeFirst()
  return r.numUpdatedRows === 1n
}
