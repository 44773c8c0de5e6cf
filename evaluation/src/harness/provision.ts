import { join } from 'node:path'
import { createApiKey, createDb, migrateToLatest } from '@hivesight/coordinator'

/**
 * API keys for a coordinator that has not started yet, written to the database it will use (its SQLite
 * file in `dataDir`, or `databaseUrl`), as an operator's `npm run keys -- create` would.
 */
export async function provisionApiKeys<N extends string>(names: N[], where: { dataDir: string; databaseUrl?: string }): Promise<Record<N, string>> {
  const db = where.databaseUrl ? createDb({ databaseUrl: where.databaseUrl }) : createDb({ sqliteFile: join(where.dataDir, 'hivesight.sqlite') })
  try {
    await migrateToLatest(db.kysely)
    const keys = {} as Record<N, string>
    for (const name of names) keys[name] = (await createApiKey(db, name, Date.now())).key
    return keys
  } finally {
    await db.kysely.destroy()
  }
}
