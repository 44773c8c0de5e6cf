import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import * as sessions from '../../src/db/worker-session.repository.ts'
import { DIALECTS, freshDb } from '../support/databases.ts'

for (const dialect of DIALECTS) {
  describe(`worker session repository on ${dialect}`, () => {
    test('one live session per token: a second claim fails until the first is released or goes stale', async (t) => {
      const { db, close } = await freshDb(dialect)
      t.after(close)
      const claim = (workerId: string, coordinatorId: string, now: number) =>
        sessions.claimSession(db.kysely, { tokenHash: 'h1', workerId, coordinatorId }, now, now - 6_000)
      assert.equal(await claim('w1', 'c1', 10_000), true)
      assert.equal(await claim('w2', 'c2', 11_000), false, 'held by a live session')
      assert.equal(await sessions.claimSession(db.kysely, { tokenHash: 'h2', workerId: 'w2', coordinatorId: 'c2' }, 11_000, 5_000), true, 'another token is free')
      await sessions.touchSessions(db.kysely, ['w1'], 15_000)
      assert.equal(await claim('w3', 'c2', 20_000), false, 'touched at 15 s: still live at 20 s')
      assert.equal(await claim('w3', 'c2', 21_001), true, 'untouched for more than 6 s: taken over')
      await sessions.releaseSessions(db.kysely, ['w3'])
      assert.equal(await claim('w4', 'c1', 21_002), true, 'released')
      assert.equal(await sessions.releaseCoordinatorSessions(db.kysely, 'c1'), 1, 'a restarted coordinator frees its own')
      assert.equal(await claim('w5', 'c2', 21_003), true)
    })
  })
}
