import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sql } from 'kysely'
import { createDb } from '../../src/db/create-db.ts'
import { DIALECTS, MARIADB_URL } from '../support/databases.ts'

// The session's isolation level is set once per connection, not once per checkout: Kysely runs
// onCreateConnection for every connection object it has not seen, and each extra SET is a round trip.
test('MariaDB: a pooled connection is set up once, however often it is checked out', { timeout: 20_000, skip: !DIALECTS.includes('mariadb') && 'DIALECTS leaves out mariadb' }, async () => {
  const db = createDb({ databaseUrl: MARIADB_URL })
  try {
    let last = { id: 0, sets: 0 }
    const ids = new Set<number>()
    for (let i = 0; i < 30; i++) {
      const { rows } = await sql<{ id: number; sets: string }>`SELECT CONNECTION_ID() AS id, (SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'COM_SET_OPTION') AS sets`.execute(db.kysely)
      last = { id: Number(rows[0]!.id), sets: Number(rows[0]!.sets) }
      ids.add(last.id)
    }
    // One at a time: the pool hands back the same idle connection.
    assert.equal(ids.size, 1, `one connection served the 30 queries (${[...ids].join(', ')})`)
    assert.equal(last.sets, 1, `SET statements on that connection after 30 checkouts: ${last.sets}`)
    const { rows } = await sql<{ level: string }>`SELECT @@SESSION.tx_isolation AS level`.execute(db.kysely)
    assert.equal(rows[0]!.level, 'READ-COMMITTED')
  } finally {
    await db.kysely.destroy()
  }
})
