import type { Kysely, Transaction } from 'kysely'
import type { Database, IdempotencyKeyTable } from './schema.ts'

type Conn = Kysely<Database> | Transaction<Database>

export function findKey(db: Conn, key: string) {
  return db.selectFrom('idempotency_keys').selectAll().where('idem_key', '=', key).executeTakeFirst()
}

/** One statement for a group commit's keys; throws the driver's unique-key error when another request stored one first. */
export async function insertKeys(db: Conn, rows: IdempotencyKeyTable[]): Promise<void> {
  if (rows.length > 0) await db.insertInto('idempotency_keys').values(rows).execute()
}

export async function deleteKeysCreatedBefore(db: Conn, before: number): Promise<number> {
  const r = await db.deleteFrom('idempotency_keys').where('created_at', '<', before).executeTakeFirst()
  return Number(r.numDeletedRows)
}
