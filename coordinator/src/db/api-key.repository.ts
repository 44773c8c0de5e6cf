import type { Insertable, Kysely, Transaction } from 'kysely'
import type { ApiKeyTable, Database } from './schema.ts'

type Conn = Kysely<Database> | Transaction<Database>

export async function insertApiKey(db: Conn, row: Insertable<ApiKeyTable>): Promise<void> {
  await db.insertInto('api_keys').values(row).execute()
}

export function findActiveKeyByHash(db: Conn, hash: string) {
  return db.selectFrom('api_keys').select(['id', 'name', 'admin', 'volunteers']).where('key_hash', '=', hash).where('revoked_at', 'is', null).executeTakeFirst()
}

export function listApiKeys(db: Conn) {
  return db.selectFrom('api_keys').select(['id', 'name', 'key_prefix', 'created_at', 'revoked_at', 'admin', 'volunteers']).orderBy('created_at', 'asc').execute()
}

export async function revokeApiKey(db: Conn, idOrPrefix: string, now: number): Promise<number> {
  const r = await db.updateTable('api_keys').set({ revoked_at: now })
    .where((eb) => eb.or([eb('id', '=', idOrPrefix), eb('key_prefix', '=', idOrPrefix)])).where('revoked_at', 'is', null)
    .executeTakeFirst()
  return Number(r.numUpdatedRows)
}
