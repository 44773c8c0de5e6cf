import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { sql } from 'kysely'
import { createDb, durably } from '../../src/db/create-db.ts'

test('on SQLite, what a client is told is stored commits with synchronous=FULL; dispatch commits skip the fsync (NORMAL)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hivesight-durably-'))
  const db = createDb({ sqliteFile: join(dir, 'h.sqlite') })
  t.after(async () => {
    await db.kysely.destroy()
    rmSync(dir, { recursive: true, force: true })
  })
  const level = async (conn: Parameters<typeof durably>[1] extends (trx: infer T) => unknown ? T : never) =>
    Number((await sql<{ synchronous: number }>`pragma synchronous`.execute(conn)).rows[0]!.synchronous)
  const outside = Number((await sql<{ synchronous: number }>`pragma synchronous`.execute(db.kysely)).rows[0]!.synchronous)
  assert.equal(outside, 1, 'NORMAL by default')
  assert.equal(await durably(db, (trx) => level(trx)), 2, 'FULL inside')
  await assert.rejects(durably(db, async () => {
    throw new Error('rolled back')
  }))
  assert.equal(Number((await sql<{ synchronous: number }>`pragma synchronous`.execute(db.kysely)).rows[0]!.synchronous), 1, 'NORMAL again, also after a failure')
})
