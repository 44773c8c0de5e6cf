import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createConnection } from 'mysql2/promise'
import { createDb, type Db, type Dialect } from '../../src/db/create-db.ts'
import { migrateToLatest } from '../../src/db/migrate.ts'

/** Which dialects the store tests run against: both unless DIALECTS narrows it (e.g. DIALECTS=sqlite). */
export const DIALECTS: Dialect[] = (process.env.DIALECTS ?? 'sqlite,mariadb').split(',').map((d) => d.trim()) as Dialect[]

export const MARIADB_URL = process.env.TEST_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/test'

/** A fresh, migrated database of one dialect; MariaDB gets a throwaway schema dropped by `close`. */
export async function freshDb(dialect: Dialect): Promise<{ db: Db; close: () => Promise<void> }> {
  if (dialect === 'sqlite') {
    const db = createDb({ sqliteFile: ':memory:' })
    await migrateToLatest(db.kysely)
    return { db, close: () => db.kysely.destroy() }
  }
  const base = new URL(MARIADB_URL)
  const name = `hivesight_test_${randomBytes(4).toString('hex')}`
  const admin = await createConnection({ host: base.hostname, port: Number(base.port || 3306), user: base.username || 'root', password: decodeURIComponent(base.password) })
  await admin.query(`CREATE DATABASE ${name}`)
  const url = new URL(MARIADB_URL)
  url.pathname = `/${name}`
  const db = createDb({ databaseUrl: url.toString() })
  await migrateToLatest(db.kysely)
  return {
    db,
    close: async () => {
      await db.kysely.destroy()
      await admin.query(`DROP DATABASE ${name}`)
      await admin.end()
    },
  }
}

/**
 * Where a test coordinator keeps its data: SQLite in memory (fastest; the store and repository tests), the
 * SQLite file production uses (DATA_DIR/hivesight.sqlite: WAL, durable commits fsynced), or MariaDB.
 */
export type Store = 'sqlite-memory' | 'sqlite-file' | 'mariadb'

/** The stores route, lifecycle and security tests run on: the file production uses and MariaDB (unless DIALECTS leaves it out). */
export const STORES: Store[] = (['sqlite-file', 'mariadb'] as const).filter((s) => DIALECTS.includes(s === 'mariadb' ? 'mariadb' : 'sqlite'))

/** A fresh, migrated store; a SQLite file goes in `dir` (a temp folder of its own, removed by `close`, if none). */
export async function freshStore(store: Store, dir?: string): Promise<{ db: Db; close: () => Promise<void> }> {
  if (store !== 'sqlite-file') return freshDb(store === 'mariadb' ? 'mariadb' : 'sqlite')
  const folder = dir ?? mkdtempSync(join(tmpdir(), 'hivesight-store-'))
  const db = createDb({ sqliteFile: join(folder, 'hivesight.sqlite') })
  await migrateToLatest(db.kysely)
  return {
    db,
    close: async () => {
      await db.kysely.destroy()
      if (dir === undefined) rmSync(folder, { recursive: true, force: true })
    },
  }
}
