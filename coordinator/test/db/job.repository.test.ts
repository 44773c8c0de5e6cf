import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { v7 as uuidv7 } from 'uuid'
import * as jobs from '../../src/db/job.repository.ts'
import type { NewJob } from '../../src/db/schema.ts'
import * as workers from '../../src/db/worker.repository.ts'
import { DIALECTS, freshDb } from '../support/databases.ts'

function newJob(over: Partial<NewJob> = {}): NewJob {
  return {
    id: uuidv7(), status: 'queued', priority: 0, attempts: 0, max_attempts: 5, lease_token: 0,
    submitted_at: 1_000, filename: 'cat.jpg', content_type: 'image/jpeg', byte_size: 10, width: 1, height: 1, ...over,
  }
}

for (const dialect of DIALECTS) {
  describe(`job repository on ${dialect}`, () => {
    test('claims the highest priority first, FIFO within a priority, and leases with a new token', async (t) => {
      const { db, close } = await freshDb(dialect)
      t.after(close)
      const a = newJob(), b = newJob(), urgent = newJob({ priority: 5 })
      await jobs.insertJobs(db.kysely, [a, b, urgent])
      const claimed = await db.kysely.transaction().execute(async (trx) => {
        const rows = await jobs.selectQueuedForUpdate(trx, 2, db.dialect === 'mariadb', 2_000)
        assert.equal(await jobs.leaseJobs(trx, rows.map((r) => r.id), 'w1', 2_000, 9_000), 2)
        return rows
      })
      assert.deepEqual(claimed.map((r) => r.id), [urgent.id, a.id])
      const leased = await jobs.findJob(db.kysely, urgent.id)
      assert.equal(leased?.status, 'running')
      assert.equal(leased?.lease_token, 1)
      assert.equal(leased?.attempts, 1)
      assert.equal(leased?.worker_id, 'w1')
      assert.equal(leased?.lease_expires_at, 9_000)
      assert.equal((await jobs.findJob(db.kysely, b.id))?.status, 'queued')
    })

    test('a result counts only with the current token from the current holder', async (t) => {
      const { db, close } = await freshDb(dialect)
      t.after(close)
      const j = newJob()
      await jobs.insertJobs(db.kysely, [j])
      await db.kysely.transaction().execute((trx) => jobs.leaseJobs(trx, [j.id], 'w1', 2_000, 9_000))
      assert.equal(await jobs.completeJob(db.kysely, { id: j.id, token: 0, workerId: 'w1' }, 3_000, '{}'), false, 'stale token')
      assert.equal(await jobs.completeJob(db.kysely, { id: j.id, token: 1, workerId: 'w2' }, 3_000, '{}'), false, 'other worker')
      assert.equal(await jobs.completeJob(db.kysely, { id: j.id, token: 1, workerId: 'w1' }, 3_000, '{"x":1}'), true)
      assert.equal(await jobs.completeJob(db.kysely, { id: j.id, token: 1, workerId: 'w1' }, 4_000, '{"x":2}'), false, 'replay')
      const done = await jobs.findJob(db.kysely, j.id)
      assert.equal(done?.status, 'succeeded')
      assert.equal(done?.result_json, '{"x":1}')
      assert.equal(done?.finished_at, 3_000)
    })

    test("a lost worker's jobs and expired leases go back to the queue; a late result is then refused", async (t) => {
      const { db, close } = await freshDb(dialect)
      t.after(close)
      const [a, b, c] = [newJob(), newJob(), newJob()]
      await jobs.insertJobs(db.kysely, [a, b, c])
      await db.kysely.transaction().execute(async (trx) => {
        await jobs.leaseJobs(trx, [a.id, b.id], 'gone', 1_000, 5_000)
        await jobs.leaseJobs(trx, [c.id], 'alive', 1_000, 3_000)
      })
      assert.deepEqual(await jobs.requeueWorkerJobs(db.kysely, ['gone'], 2_000), { requeued: 2, dead: 0 })
      assert.deepEqual(await jobs.requeueExpiredLeases(db.kysely, 2_999), { requeued: 0, dead: 0 })
      assert.deepEqual(await jobs.requeueExpiredLeases(db.kysely, 3_000), { requeued: 1, dead: 0 })
      assert.deepEqual(await jobs.countByStatus(db.kysely), { queued: 3, running: 0, succeeded: 0, failed: 0, canceled: 0, dead: 0 })
      assert.equal(await jobs.completeJob(db.kysely, { id: c.id, token: 1, workerId: 'alive' }, 4_000, '{}'), false)
      // The next lease bumps the token again, so the old holder's token stays stale forever.
      await db.kysely.transaction().execute((trx) => jobs.leaseJobs(trx, [c.id], 'other', 4_000, 9_000))
      assert.equal((await jobs.findJob(db.kysely, c.id))?.lease_token, 2)
      assert.equal((await jobs.findJob(db.kysely, c.id))?.attempts, 2)
    })

    test('lists newest first with a cursor and a status filter', async (t) => {
      const { db, close } = await freshDb(dialect)
      t.after(close)
      const all = Array.from({ length: 5 }, () => newJob())
      all[1]!.status = 'succeeded'
      await jobs.insertJobs(db.kysely, all)
      const page1 = await jobs.listJobs(db.kysely, { limit: 2 })
      assert.deepEqual(page1.map((r) => r.id), [all[4]!.id, all[3]!.id])
      const page2 = await jobs.listJobs(db.kysely, { limit: 2, before: page1[1]!.id })
      assert.deepEqual(page2.map((r) => r.id), [all[2]!.id, all[1]!.id])
      const done = await jobs.listJobs(db.kysely, { limit: 10, status: 'succeeded' })
      assert.deepEqual(done.map((r) => r.id), [all[1]!.id])
    })

    test('retryable failures requeue, final failures keep their error', async (t) => {
      const { db, close } = await freshDb(dialect)
      t.after(close)
      const [a, b] = [newJob(), newJob()]
      await jobs.insertJobs(db.kysely, [a, b])
      await db.kysely.transaction().execute((trx) => jobs.leaseJobs(trx, [a.id, b.id], 'w', 1_000, 5_000))
      assert.equal(await jobs.requeueLeased(db.kysely, { id: a.id, token: 1, workerId: 'w' }, 4_000, 'INFERENCE_FAILED', 'oom'), true)
      assert.equal(await jobs.failJob(db.kysely, { id: b.id, token: 1, workerId: 'w' }, 2_000, 'IMAGE_DECODE_FAILED', 'bad'), true)
      const [ra, rb] = [await jobs.findJob(db.kysely, a.id), await jobs.findJob(db.kysely, b.id)]
      assert.equal(ra?.status, 'queued')
      assert.equal(ra?.error_code, 'INFERENCE_FAILED')
      assert.equal(rb?.status, 'failed')
      assert.equal(rb?.error_message, 'bad')
    })
  })

  describe(`worker repository on ${dialect}`, () => {
    test('lists live workers with their busy count, and finds stale ones', async (t) => {
      const { db, close } = await freshDb(dialect)
      t.after(close)
      const base = { kind: 'headless' as const, name: null, slots: 2, backend: 'wasm', threads: 1, user_agent: null, remote_address: null, jobs_done: 0 }
      await workers.insertWorker(db.kysely, { ...base, id: 'w1', connected_at: 1_000, last_seen_at: 1_000 })
      await workers.insertWorker(db.kysely, { ...base, id: 'w2', connected_at: 2_000, last_seen_at: 2_000 })
      const j = newJob()
      await jobs.insertJobs(db.kysely, [j])
      await db.kysely.transaction().execute((trx) => jobs.leaseJobs(trx, [j.id], 'w2', 2_000, 9_000))
      await workers.addJobsDone(db.kysely, 'w1', 3, 5_000)
      const live = await workers.listLiveWorkers(db.kysely)
      assert.deepEqual(live.map((w) => [w.id, w.busy, w.jobs_done]), [['w1', 0, 3], ['w2', 1, 0]])
      assert.deepEqual(await workers.findStaleWorkerIds(db.kysely, 4_000), ['w2'])
      await workers.markDisconnected(db.kysely, ['w2'], 6_000)
      assert.deepEqual((await workers.listLiveWorkers(db.kysely)).map((w) => w.id), ['w1'])
    })
  })
}
