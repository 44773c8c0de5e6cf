import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { sql, type Kysely, type Transaction } from 'kysely'
import type { Database } from '../../src/db/schema.ts'
import { createDb, durably } from '../../src/db/create-db.ts'

const T = { timeout: 30_000 }
const level = async (conn: Kysely<Database> | Transaction<Database>) =>
  Number((await sql<{ synchronous: number }>`pragma synchronous`.execute(conn)).rows[0]!.synchronous)

test('on a SQLite file, what a client is told is stored has its log flushed (off the event loop) before it returns; dispatch commits are not flushed', T, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hivesight-durably-'))
  const db = createDb({ sqliteFile: join(dir, 'h.sqlite') })
  t.after(async () => {
    await db.kysely.destroy()
    rmSync(dir, { recursive: true, force: true })
  })
  const walFlush = db.walFlush!
  assert.ok(walFlush, 'a file database flushes its log itself')
  const order: string[] = []
  const flush = walFlush.flush.bind(walFlush)
  walFlush.flush = async () => {
    order.push('flush')
    await flush()
    order.push('flushed')
  }
  assert.equal(await durably(db, (trx) => level(trx)), 1, 'the commit itself does not fsync (NORMAL)')
  await sql`create table t (x integer)`.execute(db.kysely)
  order.length = 0
  await durably(db, async (trx) => {
    await sql`insert into t values (1)`.execute(trx)
    order.push('committing')
  }).then(() => order.push('returned'))
  assert.deepEqual(order, ['committing', 'flush', 'flushed', 'returned'])
  order.length = 0
  await assert.rejects(durably(db, async (trx) => {
    await sql`insert into t values (2)`.execute(trx)
    throw new Error('rolled back')
  }))
  assert.deepEqual(order, [], 'a rolled-back transaction told nobody anything')
  await sql`insert into t values (3)`.execute(db.kysely)
  assert.deepEqual(order, [], 'an ordinary commit is not flushed')
  assert.deepEqual((await sql<{ x: number }>`select x from t order by x`.execute(db.kysely)).rows.map((r) => r.x), [1, 3])
})

test('an in-memory SQLite (nothing to flush to) commits durably with synchronous=FULL and goes back to NORMAL, also after a failure', T, async () => {
  const db = createDb({ sqliteFile: ':memory:' })
  try {
    assert.equal(db.walFlush, undefined)
    assert.equal(await level(db.kysely), 1, 'NORMAL by default')
    assert.equal(await durably(db, (trx) => level(trx)), 2, 'FULL inside')
    await assert.rejects(durably(db, async () => {
      throw new Error('rolled back')
    }))
    assert.equal(await level(db.kysely), 1, 'NORMAL again')
  } finally {
    await db.kysely.destroy()
  }
})
