import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Transaction } from 'kysely'
import { v7 as uuidv7 } from 'uuid'
import * as events from '../../src/db/event.repository.ts'
import * as images from '../../src/db/image.repository.ts'
import * as jobs from '../../src/db/job.repository.ts'
import type { Database, NewJob } from '../../src/db/schema.ts'
import * as workers from '../../src/db/worker.repository.ts'
import { isCurrentLease, splitLostLeases } from '../../src/jobs/lease.ts'
import { uuidV7Floor } from '../../src/jobs/retention.ts'
import { DIALECTS, freshDb } from '../support/databases.ts'

function newJob(over: Partial<NewJob> = {}): NewJob {
  return {
    id: uuidv7(), status: 'queued', priority: 0, attempts: 0, max_attempts: 5, lease_token: 0,
    submitted_at: 1_000, available_at: 1_000, filename: 'cat.jpg', content_type: 'image/jpeg', byte_size: 10, width: 1, height: 1, ...over,
  }
}
const to = (workerId: string, ids: string[]) => ids.map((id) => ({ id, workerId }))

for (const dialect of DIALECTS) {
  describe(`job repository on ${dialect}`, () => {
    test('claims the highest priority first, FIFO within a priority, never a delayed job; one UPDATE leases each to its worker', async (t) => {
      const { db, close } = await freshDb(dialect)
      t.after(close)
      const a = newJob(), b = newJob(), urgent = newJob({ priority: 5 }), backingOff = newJob({ status: 'delayed', priority: 9, available_at: 1 })
      await jobs.insertJobs(db.kysely, [a, b, urgent, backingOff])
      const claimed = await db.kysely.transaction().execute(async (trx) => {
        const rows = await jobs.selectQueuedForUpdate(trx, db.dialect, 2)
        assert.equal(await jobs.leaseJobs(trx, db.dialect, [{ id: rows[0]!.id, workerId: 'w1' }, { id: rows[1]!.id, workerId: 'w2' }], 2_000, 9_000), 2)
        return rows
      })
      assert.deepEqual(claimed.map((r) => r.id), [urgent.id, a.id])
      const leased = await jobs.findJob(db.kysely, urgent.id)
      assert.deepEqual([leased?.status, leased?.lease_token, leased?.attempts, leased?.worker_id, leased?.lease_expires_at], ['running', 1, 1, 'w1', 9_000])
      assert.equal((await jobs.findJob(db.kysely, a.id))?.worker_id, 'w2')
      assert.equal((await jobs.findJob(db.kysely, b.id))?.status, 'queued')
      assert.equal((await jobs.findJob(db.kysely, backingOff.id))?.status, 'delayed')
    })

    test('a result counts only with the current token from the current holder; one UPDATE writes a batch', async (t) => {
      const { db, close } = await freshDb(dialect)
      t.after(close)
      const [j, k] = [newJob(), newJob()]
      await jobs.insertJobs(db.kysely, [j, k])
      await db.kysely.transaction().execute((trx) => jobs.leaseJobs(trx, db.dialect, to('w1', [j.id, k.id]), 2_000, 9_000))
      await db.kysely.transaction().execute(async (trx: Transaction<Database>) => {
        const facts = new Map((await jobs.lockLeaseStates(trx, db.dialect, [j.id, k.id])).map((f) => [f.id, f]))
        assert.equal(isCurrentLease(facts.get(j.id), { token: 0, workerId: 'w1' }), false, 'stale token')
        assert.equal(isCurrentLease(facts.get(j.id), { token: 1, workerId: 'w2' }), false, 'other worker')
        assert.equal(isCurrentLease(facts.get(j.id), { token: 1, workerId: 'w1' }), true)
        assert.equal(await jobs.completeJobsFenced(trx, db.dialect, [{ id: j.id, token: 1, workerId: 'w1', resultJson: '{"x":1}' }, { id: k.id, token: 1, workerId: 'w1', resultJson: '{"x":2}' }], 3_000), 2)
      })
      const [dj, dk] = [await jobs.findJob(db.kysely, j.id), await jobs.findJob(db.kysely, k.id)]
      assert.deepEqual([dj?.status, dj?.result_json, dj?.finished_at, dk?.result_json], ['succeeded', '{"x":1}', 3_000, '{"x":2}'])
      const [after] = await db.kysely.transaction().execute((trx) => jobs.lockLeaseStates(trx, db.dialect, [j.id]))
      assert.equal(isCurrentLease(after, { token: 1, workerId: 'w1' }), false, 'a replay after completion is refused')
    })

    test("a lost worker's jobs and expired leases go back to the queue, or die when attempts are used up", async (t) => {
      const { db, close } = await freshDb(dialect)
      t.after(close)
      const [a, b, c] = [newJob(), newJob({ attempts: 4 }), newJob()]
      await jobs.insertJobs(db.kysely, [a, b, c])
      await db.kysely.transaction().execute(async (trx) => {
        await jobs.leaseJobs(trx, db.dialect, to('gone', [a.id, b.id]), 1_000, 5_000)
        await jobs.leaseJobs(trx, db.dialect, to('alive', [c.id]), 1_000, 3_000)
      })
      const takeBack = (scope: { workerIds?: string[]; expiredAt?: number }) => db.kysely.transaction().execute(async (trx) => {
        const split = splitLostLeases(await jobs.lockLostLeases(trx, db.dialect, scope))
        await jobs.takeBackLeases(trx, split, 2_000)
        return split
      })
      assert.deepEqual(await takeBack({ workerIds: ['gone'] }), { requeue: [a.id], requeueUncounted: [], dead: [b.id] })
      assert.deepEqual(await takeBack({ expiredAt: 2_999 }), { requeue: [], requeueUncounted: [], dead: [] })
      assert.deepEqual(await takeBack({ expiredAt: 3_000 }), { requeue: [c.id], requeueUncounted: [], dead: [] })
      assert.deepEqual(await jobs.countActive(db.kysely, 100), { queued: 2, delayed: 0, running: 0 })
      assert.equal((await jobs.findJob(db.kysely, b.id))?.error_code, 'ATTEMPTS_EXHAUSTED')
      // The next lease bumps the token again, so the old holder's token stays stale forever.
      await db.kysely.transaction().execute((trx) => jobs.leaseJobs(trx, db.dialect, to('other', [c.id]), 4_000, 9_000))
      assert.deepEqual([(await jobs.findJob(db.kysely, c.id))?.lease_token, (await jobs.findJob(db.kysely, c.id))?.attempts], [2, 2])
      // A volunteer's lease, even on the last attempt: lost, it is queued again and the attempt given back.
      const d = newJob({ attempts: 4 })
      await jobs.insertJobs(db.kysely, [d])
      await db.kysely.transaction().execute((trx) => jobs.leaseJobs(trx, db.dialect, to('tab', [d.id]), 5_000, 9_000, true))
      assert.deepEqual(await takeBack({ workerIds: ['tab'] }), { requeue: [], requeueUncounted: [d.id], dead: [] })
      const back = await jobs.findJob(db.kysely, d.id)
      assert.deepEqual([back?.status, back?.attempts, back?.lease_untrusted], ['queued', 4, 0])
    })

    test('lists newest first with a cursor; the queued filter includes delayed retries', async (t) => {
      const { db, close } = await freshDb(dialect)
      t.after(close)
      const all = Array.from({ length: 5 }, () => newJob())
      all[1]!.status = 'succeeded'
      all[2]!.status = 'delayed'
      await jobs.insertJobs(db.kysely, all)
      const page1 = await jobs.listJobs(db.kysely, { limit: 2 })
      assert.deepEqual(page1.map((r) => r.id), [all[4]!.id, all[3]!.id])
      const page2 = await jobs.listJobs(db.kysely, { limit: 2, before: page1[1]!.id })
      assert.deepEqual(page2.map((r) => r.id), [all[2]!.id, all[1]!.id])
      assert.deepEqual((await jobs.listJobs(db.kysely, { limit: 10, status: 'succeeded' })).map((r) => r.id), [all[1]!.id])
      assert.equal((await jobs.listJobs(db.kysely, { limit: 10, status: 'queued' })).length, 4)
    })

    test('a retryable failure waits out its back-off as delayed, then becomes claimable; a final failure keeps its error', async (t) => {
      const { db, close } = await freshDb(dialect)
      t.after(close)
      const [a, b] = [newJob(), newJob()]
      await jobs.insertJobs(db.kysely, [a, b])
      await db.kysely.transaction().execute((trx) => jobs.leaseJobs(trx, db.dialect, to('w', [a.id, b.id]), 1_000, 5_000))
      assert.equal(await jobs.delayLeased(db.kysely, { id: a.id, token: 1, workerId: 'w' }, 4_000, 'INFERENCE_FAILED', 'oom'), true)
      assert.equal(await jobs.failJob(db.kysely, { id: b.id, token: 1, workerId: 'w' }, 2_000, 'IMAGE_DECODE_FAILED', 'bad'), true)
      assert.equal(await jobs.failJob(db.kysely, { id: b.id, token: 1, workerId: 'w' }, 2_000, 'X', 'twice'), false, 'fenced')
      assert.deepEqual([(await jobs.findJob(db.kysely, a.id))?.status, (await jobs.findJob(db.kysely, a.id))?.error_code], ['delayed', 'INFERENCE_FAILED'])
      assert.equal(await jobs.promoteDueJobs(db.kysely, 3_999), 0)
      assert.equal(await jobs.promoteDueJobs(db.kysely, 4_000), 1)
      assert.equal((await jobs.findJob(db.kysely, a.id))?.status, 'queued')
      assert.equal((await jobs.findJob(db.kysely, b.id))?.error_message, 'bad')
    })

    test('retention: final jobs submitted before a time are found oldest first along the primary key, and deleted', async (t) => {
      const { db, close } = await freshDb(dialect)
      t.after(close)
      const at = (ms: number) => uuidv7({ msecs: ms })
      const old = newJob({ id: at(1_000), status: 'succeeded' }), oldButOpen = newJob({ id: at(2_000) }), recent = newJob({ id: at(9_000), status: 'failed' })
      await jobs.insertJobs(db.kysely, [old, oldButOpen, recent])
      assert.ok(uuidV7Floor(5_000) > old.id && uuidV7Floor(5_000) < recent.id && uuidV7Floor(1_000) <= old.id)
      const due = await jobs.finalJobsBefore(db.kysely, uuidV7Floor(5_000), 10)
      assert.deepEqual(due, [old.id])
      assert.equal(await jobs.deleteJobs(db.kysely, due), 1)
      assert.deepEqual((await jobs.listJobs(db.kysely, { limit: 10 })).map((r) => r.id).sort(), [oldButOpen.id, recent.id].sort())
    })
  })

  describe(`images and events on ${dialect}`, () => {
    test('images round-trip byte for byte, also across a statement split, and are deleted', async (t) => {
      const { db, close } = await freshDb(dialect)
      t.after(close)
      const big = Buffer.alloc(3 * 1024 * 1024, 7), small = Buffer.from([0, 1, 2, 255])
      await images.insertImages(db.kysely, [{ job_id: 'a', bytes: big }, { job_id: 'b', bytes: big }, { job_id: 'c', bytes: small }])
      const found = await images.findImages(db.kysely, ['a', 'b', 'c', 'missing'])
      assert.deepEqual([found.size, found.get('c')], [3, small])
      assert.ok(found.get('b')!.equals(big))
      await images.deleteImages(db.kysely, ['a', 'c'])
      assert.deepEqual([...(await images.findImages(db.kysely, ['a', 'b', 'c'])).keys()], ['b'])
    })

    test('events are read in id order after a cursor and pruned by age', async (t) => {
      const { db, close } = await freshDb(dialect)
      t.after(close)
      const start = await events.lastEventId(db.kysely)
      await events.appendEvents(db.kysely, [{ kind: 'jobs.queued', origin: 'a', payload: '{}', created_at: 1_000 }, { kind: 'jobs.finished', origin: 'b', payload: '{"jobIds":["x"]}', created_at: 5_000 }])
      const read = await events.eventsAfter(db.kysely, start, 10)
      assert.deepEqual(read.map((e) => e.kind), ['jobs.queued', 'jobs.finished'])
      assert.deepEqual(await events.eventsAfter(db.kysely, read[0]!.id, 10).then((r) => r.map((e) => e.origin)), ['b'])
      assert.equal(await events.deleteEventsBefore(db.kysely, 2_000), 1)
      assert.equal(await events.lastEventId(db.kysely), read[1]!.id)
    })
  })

  describe(`worker repository on ${dialect}`, () => {
    test('lists workers with their busy count, adds jobs done and figures in one UPDATE, finds stale ones, deletes them', async (t) => {
      const { db, close } = await freshDb(dialect)
      t.after(close)
      const base = { kind: 'headless' as const, name: null, slots: 2, backend: 'wasm', threads: 1, simd: 1, user_agent: null, remote_address: null, jobs_done: 0, coordinator_id: 'c1' }
      await workers.insertWorker(db.kysely, { ...base, id: 'w1', connected_at: 1_000, last_seen_at: 1_000 })
      await workers.insertWorker(db.kysely, { ...base, id: 'w2', connected_at: 2_000, last_seen_at: 2_000, coordinator_id: 'c2' })
      const j = newJob()
      await jobs.insertJobs(db.kysely, [j])
      await db.kysely.transaction().execute((trx) => jobs.leaseJobs(trx, db.dialect, to('w2', [j.id]), 2_000, 9_000))
      const figures = new Map([['w1', { imagesPerSecond: 12.5, inferMs: 31.25, prepareMs: null }], ['w2', { imagesPerSecond: 9, inferMs: 9, prepareMs: 9 }]])
      await workers.touchWorkers(db.kysely, ['w1'], 5_000, new Map([['w1', 3], ['w2', 9]]), figures)
      const live = await workers.listLiveWorkers(db.kysely)
      assert.deepEqual(live.map((w) => [w.id, w.busy, w.jobs_done, w.last_seen_at]), [['w1', 0, 3, 5_000], ['w2', 1, 0, 2_000]])
      const figuresOf = (rows: typeof live) => rows.map((w) => [w.id, Number(w.simd), Number(w.images_per_second), w.infer_ms, w.prepare_ms])
      assert.deepEqual(figuresOf(live), [['w1', 1, 12.5, 31.25, null], ['w2', 1, 0, null, null]], 'only the touched worker, fractions kept')
      // A worker with no new result keeps its times; its rate is written as measured.
      await workers.touchWorkers(db.kysely, ['w1'], 6_000, new Map(), new Map([['w1', { imagesPerSecond: 0, inferMs: null, prepareMs: 4.5 }]]))
      assert.deepEqual(figuresOf(await workers.listLiveWorkers(db.kysely)).slice(0, 1), [['w1', 1, 0, 31.25, 4.5]])
      assert.deepEqual(await workers.findStaleWorkerIds(db.kysely, 4_000), ['w2'])
      assert.deepEqual(await workers.workerIdsOfCoordinator(db.kysely, 'c2'), ['w2'])
      await workers.deleteWorkers(db.kysely, ['w2'])
      assert.deepEqual((await workers.listLiveWorkers(db.kysely)).map((w) => w.id), ['w1'])
    })
  })
}
