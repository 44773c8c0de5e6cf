import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { JobView } from '@hivesight/protocol'
import { DIALECTS } from '../support/databases.ts'
import { tinyPng } from '../support/images.ts'
import { listeningApp, type ListeningApp } from '../support/listening-app.ts'
import { multipart } from '../support/test-app.ts'

async function submit(app: ListeningApp, n: number, priority?: number): Promise<string[]> {
  const files = Array.from({ length: n }, (_, i) => ({ name: `${i}.png`, type: 'image/png', data: tinyPng() }))
  const res = await app.app.inject({ method: 'POST', url: `/api/v1/jobs${priority === undefined ? '' : `?priority=${priority}`}`, ...multipart(files) })
  assert.equal(res.statusCode, 202, res.body)
  return res.json().jobs.map((j: { id: string }) => j.id)
}

async function job(app: ListeningApp, id: string, wait = 0): Promise<JobView> {
  return (await app.app.inject({ url: `/api/v1/jobs/${id}${wait ? `?wait=${wait}` : ''}` })).json()
}

async function eventually(check: () => Promise<boolean>, what: string, ms = 3_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

for (const dialect of DIALECTS) {
  test(`[${dialect}] jobs are pushed to free slots at once, and a result finishes the job with labels`, async (t) => {
    const app = await listeningApp(t, { dialect })
    const w = await app.worker({ slots: 2 })
    const ids = await submit(app, 3)
    const [a, b] = [await w.assignment(0), await w.assignment(1)]
    assert.deepEqual([a.job.jobId, b.job.jobId], ids.slice(0, 2), 'FIFO')
    assert.equal(a.job.attempt, 1)
    assert.equal(a.job.leaseToken, 1)
    assert.equal(a.job.contentType, 'image/png')
    assert.deepEqual(Buffer.from(a.image), tinyPng(), 'the image travels in the frame')
    // Proof that the dispatcher had the third job in hand while w was full: a second worker gets it. Had
    // it counted a free slot on w, w (registered first, and winning ties) would have got it instead.
    const other = await app.worker({ slots: 1 })
    const third = await other.assignment(0).catch(() => undefined)
    assert.equal(third?.job.jobId, ids[2], `the third job went to the free worker (w holds ${w.assignments.length})`)
    assert.equal(w.assignments.length, 2, 'no more than the slots')
    assert.equal((await job(app, ids[0]!)).status, 'running')

    const [next] = await submit(app, 1)
    w.succeed(a, [282, 1, 2, 3, 4])
    const done = await job(app, ids[0]!, 5)
    assert.equal(done.status, 'succeeded')
    assert.equal(done.workerId, w.workerId)
    assert.deepEqual(done.result?.predictions[0], { wnid: 'n02123045', label: 'tabby, tabby cat', score: 0.5 })
    assert.equal(done.result?.predictions[1]?.wnid, 'n01440764')
    assert.equal((await w.assignment(2)).job.jobId, next, 'the freed slot gets the next job')
    await app.sweeper.sweep() // jobs done are written with the sweep's proof of life
    const workers = (await app.app.inject({ url: '/api/v1/workers' })).json().workers as { id: string; jobsDone: number; busy: number; slots: number }[]
    assert.equal(workers.length, 2)
    const mine = workers.find((x) => x.id === w.workerId)
    assert.deepEqual(mine && { jobsDone: mine.jobsDone, busy: mine.busy, slots: mine.slots }, { jobsDone: 1, busy: 2, slots: 2 })
  })

  test(`[${dialect}] a stale or replayed result never overwrites the accepted one`, async (t) => {
    const app = await listeningApp(t, { dialect })
    const w = await app.worker()
    const [id] = await submit(app, 1)
    const a = await w.assignment(0)
    w.send({ type: 'job.result', jobId: a.job.jobId, leaseToken: a.job.leaseToken + 1, model: a.job.model, top: [{ index: 9, score: 0.9 }], timings: { decodeMs: 1, inferMs: 1 } })
    await eventually(async () => app.counters.staleResults === 1, 'stale result counted')
    assert.equal((await job(app, id!)).status, 'running')
    w.succeed(a, [5])
    assert.equal((await job(app, id!, 5)).result?.predictions[0]?.wnid, 'n01494475')
    w.succeed(a, [7])
    await eventually(async () => app.counters.staleResults === 2, 'replay counted')
    assert.equal((await job(app, id!)).result?.predictions[0]?.wnid, 'n01494475')
  })

  test(`[${dialect}] a worker that disconnects has its jobs requeued at once; its late result is refused`, async (t) => {
    const app = await listeningApp(t, { dialect })
    const first = await app.worker({ slots: 1 })
    const [id] = await submit(app, 1)
    const a = await first.assignment(0)
    first.kill()
    await eventually(async () => (await job(app, id!)).status === 'queued', 'requeued')
    const second = await app.worker({ slots: 1 })
    const b = await second.assignment(0)
    assert.equal(b.job.jobId, id)
    assert.equal(b.job.attempt, 2)
    assert.equal(b.job.leaseToken, a.job.leaseToken + 1)
    second.succeed(b, [10])
    const done = await job(app, id!, 5)
    assert.equal(done.status, 'succeeded')
    assert.equal(done.attempts, 2)
    assert.equal(done.workerId, second.workerId)
  })

  test(`[${dialect}] an image the worker cannot decode fails at once; a retryable error is retried elsewhere`, async (t) => {
    const app = await listeningApp(t, { dialect })
    const w = await app.worker({ slots: 1 })
    const [bad, flaky] = await submit(app, 2)
    w.fail(await w.assignment(0), false)
    const failed = await job(app, bad!, 5)
    assert.equal(failed.status, 'failed')
    assert.equal(failed.attempts, 1)
    assert.deepEqual(failed.error, { code: 'IMAGE_DECODE_FAILED', message: 'simulated' })
    const f1 = await w.assignment(1)
    assert.equal(f1.job.jobId, flaky)
    w.fail(f1, true)
    await eventually(async () => (await job(app, flaky!)).status === 'queued', 'requeued with backoff')
    // A job submitted later overtaking it proves the dispatcher ran while the flaky one was backing off.
    const [fresh] = await submit(app, 1)
    const f3 = await w.assignment(2)
    assert.equal(f3.job.jobId, fresh, 'not before the backoff has passed')
    w.succeed(f3)
    assert.equal((await job(app, fresh!, 5)).status, 'succeeded')
    app.clock.advance(60_000)
    app.pump.jobsMayBeQueued()
    const f2 = await w.assignment(3)
    assert.equal(f2.job.jobId, flaky)
    assert.equal(f2.job.attempt, 2)
    w.succeed(f2)
    assert.equal((await job(app, flaky!, 5)).status, 'succeeded')
  })
}

test('higher priority jobs are dispatched first, FIFO within a priority', async (t) => {
  const app = await listeningApp(t)
  const low = await submit(app, 2, 0)
  const high = await submit(app, 2, 10)
  const w = await app.worker({ slots: 4 })
  const got = await Promise.all([0, 1, 2, 3].map((n) => w.assignment(n)))
  assert.deepEqual(got.map((a) => a.job.jobId), [...high, ...low])
})

test('work is spread over workers instead of filling the first one', async (t) => {
  const app = await listeningApp(t)
  // Both connected before the jobs exist: jobs queued earlier would all go to whichever connects first.
  const [w1, w2] = [await app.worker({ slots: 4 }), await app.worker({ slots: 4 })]
  const ids = await submit(app, 4)
  await eventually(async () => w1.assignments.length + w2.assignments.length === 4, 'all dispatched')
  assert.deepEqual([w1.assignments.length >= 1, w2.assignments.length >= 1], [true, true], `split ${w1.assignments.length}/${w2.assignments.length}`)
  assert.equal(new Set([...w1.assignments, ...w2.assignments].map((a) => a.job.jobId)).size, ids.length)
})

test('malformed messages are answered with an error frame; the connection stays usable', async (t) => {
  const app = await listeningApp(t)
  const w = await app.worker()
  w.ws.send('{not json')
  w.send({ type: 'job.result', jobId: 'x', leaseToken: 1, top: [{ index: 5000, score: 2 }], timings: { decodeMs: 1, inferMs: 1 } })
  await w.waitFor(() => w.messages.filter((m) => m.type === 'error').length === 2, 3_000, 'two error frames')
  assert.deepEqual(w.messages.filter((m) => m.type === 'error').map((m) => m.type === 'error' && m.code), ['BAD_MESSAGE', 'BAD_MESSAGE'])
  const [id] = await submit(app, 1)
  w.succeed(await w.assignment(0))
  assert.equal((await job(app, id!, 5)).status, 'succeeded')
})

test('a long-poll returns as soon as the job finishes', async (t) => {
  const app = await listeningApp(t)
  const w = await app.worker()
  const [id] = await submit(app, 1)
  const a = await w.assignment(0)
  const started = Date.now()
  const pending = job(app, id!, 10)
  setTimeout(() => w.succeed(a), 200)
  const done = await pending
  assert.equal(done.status, 'succeeded')
  assert.ok(Date.now() - started < 2_000, `returned after ${Date.now() - started} ms`)
})
