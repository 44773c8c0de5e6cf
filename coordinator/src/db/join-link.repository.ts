import type { Kysely, Transaction } from 'kysely'
import type { Database, JoinLinkTable } from './schema.ts'

type Conn = Kysely<Database> | Transaction<Database>

export async function insertJoinLink(db: Conn, row: JoinLinkTable): Promise<void> {
  await db.insertInto('join_links').values(row).execute()
}

export function findJoinLink(db: Conn, name: string): Promise<JoinLinkTable | undefined> {
  return db.selectFrom('join_links').selectAll().where('name', '=', name).executeTakeFirst()
}

/** Newest first. */
export function listJoinLinks(db: Conn, limit: number): Promise<JoinLinkTable[]> {
  return db.selectFrom('join_links').selectAll().orderBy('created_at', 'desc').limit(limit).execute()
}

export async function revokeJoinLink(db: Conn, name: string, now: number): Promise<boolean> {
  const r = await db.updateTable('join_links').set({ revoked_at: now }).where('name', '=', name).where('revoked_at', 'is', null).executeTakeFirst()
  return r.numUpdatedRows === 1n
}
