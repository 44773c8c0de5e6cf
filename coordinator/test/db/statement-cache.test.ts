import assert from 'node:assert/strict'
import { test } from 'node:test'
import SqliteDatabase from 'better-sqlite3'
import { sql } from 'kysely'
import { createDb } from '../../src/db/create-db.ts'
import { withStatementCache } from '../../src/db/statement-cache.ts'

test('statement cache: one prepare per SQL text, the least recently used dropped beyond its size', { timeout: 10_000 }, () => {
  const real = new SqliteDatabase(':memory:')
  const prepared: string[] = []
  const db = withStatementCache({ prepare: (s) => (prepared.push(s), real.prepare(s)), close: () => real.close() }, 2)
  db.prepare('select 1')
  db.prepare('select 1')
  db.prepare('select 2')
  db.prepare('select 1') // now the most recent: 'select 2' is the one to go
  db.prepare('select 3')
  db.prepare('select 1')
  db.prepare('select 2')
  assert.deepEqual(prepared, ['select 1', 'select 2', 'select 3', 'select 2'])
  db.close()
})

test('statement cache: the same statement run again with other parameters, inside and outside transactions, gives the right rows', { timeout: 10_000 }, async () => {
  const db = createDb({ sqliteFile: ':memory:' })
  try {
    await sql`create table t (k integer primary key, v text)`.execute(db.kysely)
    for (let i = 0; i < 50; i++) await sql`insert into t (k, v) values (${i}, ${`v${i}`})`.execute(db.kysely)
    await db.kysely.transaction().execute(async (trx) => {
      for (let i = 50; i < 60; i++) await sql`insert into t (k, v) values (${i}, ${`v${i}`})`.execute(trx)
    })
    for (const k of [3, 42, 57]) {
      const { rows } = await sql<{ v: string }>`select v from t where k = ${k}`.execute(db.kysely)
      assert.deepEqual(rows, [{ v: `v${k}` }])
    }
    const { rows } = await sql<{ n: number }>`select count(*) as n from t`.execute(db.kysely)
    assert.equal(rows[0]!.n, 60)
  } finally {
    await db.kysely.destroy()
  }
})
