import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { test } from 'node:test'
import type { JobView } from '@hivesight/protocol'
import { freshStore, STORES } from '../support/databases.ts'
import { jpeg, tinyPng } from '../support/images.ts'
import { listeningApp, type ListeningApp } from '../support/listening-app.ts'
import { multipart } from '../support/test-app.ts'

async function submit(app: ListeningApp, n: number, headers: Record<string, string> = {}, data = tinyPng()) {
  const files = Array.from({ length: n }, (_, i) => ({ name: `${i}.png`, type: 'image/png', data }))
  const body = multipart(files)
  return app.app.inject({ method: 'POST', url: '/api/v1/jobs', payload: body.payload, headers: { ...body.headers, ...headers } })
}
const ids = (res: { json(): { jobs: { id: string }[] } }) => res.json().jobs.map((j) => j.id)
const job = async (app: ListeningApp, id: string, wait = 0): Promise<JobView> => (await app.app.inject({ url: `/api/v1/jobs/${id}${wait ? `?wait=${wait}` : ''}` })).json()

async function eventually(check: () => Promise<boolean> | boolean, what: string, ms = 3_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

for (const store of STORES) test(`[${store}] a job that used every attempt is dead, listable, and can be queued again`, { timeout: 60_000 }, async (t) => {
  const app = await listeningApp(t, { store, env: { MAX_ATTEMPTS: '2' } })
  const w = await app.worker()
  const [id] = ids(await submit(app, 1))
  w.fail(await w.assignment(0), true)
  await eventually(async () => (await job(app, id!)).status === 'queued', 'first retry queued')
  app.clock.advance(60_000)
  app.pump.jobsMayBeQueued()
  w.fail(await w.assignment(1), true)
  const dead = await job(app, id!, 5)
  assert.equal(dead.status, 'dead')
  assert.equal(dead.attempts, 2)
  assert.equal((await app.app.inject({ url: '/api/v1/jobs?status=dead' })).json().jobs[0].id, id)
  const retried = await app.app.inject({ method: 'POST', url: `/api/v1/jobs/${id}/retry` })
  assert.equal(retried.statusCode, 200)
  assert.ok(['queued', 'running'].includes(retried.json().status), retried.json().status)
  w.succeed(await w.assignment(2))
  assert.equal((await job(app, id!, 5)).status, 'succeeded')
  const again = await app.app.inject({ method: 'POST', url: `/api/v1/jobs/${id}/retry` })
  assert.equal(again.statusCode, 409)
  assert.equal(again.json().code, 'JOB_NOT_DEAD')
})

for (const store of STORES) test(`[${store}] a worker lost on every attempt leaves the job dead instead of looping forever`, { timeout: 60_000 }, async (t) => {
  const app = await listeningApp(t, { store, env: { MAX_ATTEMPTS: '2' } })
  const [id] = ids(await submit(app, 1))
  for (let i = 0; i < 2; i++) {
    const w = await app.worker()
    await w.assignment(0)
    w.kill()
    await eventually(async () => (await job(app, id!)).status !== 'running', `loss ${i + 1} handled`)
  }
  const dead = await job(app, id!)
  assert.equal(dead.status, 'dead')
  assert.equal(dead.error?.code, 'ATTEMPTS_EXHAUSTED')
})

for (const store of STORES) test(`[${store}] canceling: a queued job at once; a running one is dropped by its worker and the slot is reused`, { timeout: 60_000 }, async (t) => {
  const app = await listeningApp(t, { store })
  const [a, b, c] = ids(await submit(app, 3))
  const queuedCancel = await app.app.inject({ method: 'DELETE', url: `/api/v1/jobs/${c}` })
  assert.equal(queuedCancel.statusCode, 200)
  assert.equal(queuedCancel.json().status, 'canceled')
  const w = await app.worker({ slots: 1 })
  const first = await w.assignment(0)
  assert.equal(first.job.jobId, a)
  const runningCancel = await app.app.inject({ method: 'DELETE', url: `/api/v1/jobs/${a}` })
  assert.equal(runningCancel.json().status, 'canceled')
  await w.waitFor(() => w.messages.some((m) => m.type === 'job.cancel' && m.jobId === a), 3_000, 'job.cancel')
  const second = await w.assignment(1)
  assert.equal(second.job.jobId, b, 'the freed slot got the next job')
  w.succeed(first)
  await eventually(() => app.counters.staleResults === 1, 'late answer refused')
  assert.equal((await job(app, a!)).status, 'canceled')
  const twice = await app.app.inject({ method: 'DELETE', url: `/api/v1/jobs/${a}` })
  assert.equal(twice.statusCode, 409)
  assert.equal(twice.json().code, 'JOB_ALREADY_FINISHED')
})

for (const store of STORES) test(`[${store}] a lease that runs out on a live worker is taken back; the late result is refused`, { timeout: 60_000 }, async (t) => {
  const app = await listeningApp(t, { store, env: { LEASE_MS: '5000' } })
  const slow = await app.worker({ slots: 1 })
  const [id] = ids(await submit(app, 1))
  const a = await slow.assignment(0)
  app.clock.advance(5_001)
  await app.sweeper.sweep()
  await slow.waitFor(() => slow.messages.some((m) => m.type === 'job.cancel' && m.reason === 'lease expired'), 3_000, 'job.cancel')
  const b = await slow.assignment(1)
  assert.equal(b.job.jobId, id)
  assert.equal(b.job.leaseToken, a.job.leaseToken + 1)
  slow.succeed(a, [7])
  await eventually(() => app.counters.staleResults === 1, 'stale refused')
  slow.succeed(b, [9])
  const done = await job(app, id!, 5)
  assert.equal(done.result?.predictions[0]?.wnid, 'n01514859', 'class 9 (hen) from the current holder, not class 7')
  assert.equal(done.attempts, 2)
})

for (const store of STORES) test(`[${store}] Idempotency-Key: same key and content → same jobs; other content → 422; survives a restart of the service`, { timeout: 60_000 }, async (t) => {
  const { db, close } = await freshStore(store)
  const before = await listeningApp(t, { sharedDb: db })
  const beforeRestart = await submit(before, 2, { 'idempotency-key': 'upload-41' })
  await before.app.close()
  const app = await listeningApp(t, { sharedDb: db })
  const replayed = await submit(app, 2, { 'idempotency-key': 'upload-41' })
  assert.deepEqual(ids(replayed), ids(beforeRestart), 'a new coordinator process on the same database answers as the first did')
  assert.equal(replayed.headers['idempotent-replayed'], 'true')
  const key = { 'idempotency-key': 'upload-42' }
  const first = await submit(app, 2, key)
  assert.equal(first.statusCode, 202)
  const again = await submit(app, 2, key)
  assert.equal(again.statusCode, 202)
  assert.deepEqual(ids(again), ids(first))
  assert.equal(again.headers['idempotent-replayed'], 'true')
  const other = await submit(app, 1, key, jpeg())
  assert.equal(other.statusCode, 422)
  assert.equal(other.json().code, 'IDEMPOTENCY_KEY_REUSED')
  assert.equal((await app.app.inject({ url: '/api/v1/jobs' })).json().jobs.length, 4, 'no duplicate jobs')
  // Registered last, so it runs after both coordinators have closed.
  t.after(close)
})

for (const store of STORES) test(`[${store}] Idempotency-Key: a retry while the first copy is still being received is not held up by it, and both copies get the same jobs`, { timeout: 60_000 }, async (t) => {
  // On a lossy link the first copy can sit half-received on a dead connection; the retry must not wait for it.
  const app = await listeningApp(t, { store })
  const body = multipart([{ name: 'slow.png', type: 'image/png', data: tinyPng() }])
  const head = `POST /api/v1/jobs HTTP/1.1\r\nhost: x\r\nconnection: close\r\nidempotency-key: slow-upload\r\ncontent-type: ${body.headers['content-type']}\r\ncontent-length: ${body.payload.length}\r\n\r\n`
  const { port } = new URL(app.url)
  const slow = connect(Number(port), '127.0.0.1')
  t.after(() => slow.destroy())
  let answer = ''
  slow.on('data', (c: Buffer) => (answer += c.toString()))
  const ended = new Promise((r) => slow.once('end', r))
  await new Promise((r) => slow.once('connect', r))
  slow.write(head)
  slow.write(body.payload.subarray(0, 40))
  await new Promise((r) => setTimeout(r, 200))
  const retry = await app.app.inject({ method: 'POST', url: '/api/v1/jobs', payload: body.payload, headers: { ...body.headers, 'idempotency-key': 'slow-upload' } })
  assert.equal(retry.statusCode, 202, retry.body)
  assert.equal(answer, '', 'the first copy is still unanswered')
  slow.write(body.payload.subarray(40)) // not end(): a half-closed socket is closed by the server before it answers
  await ended
  assert.match(answer, /^HTTP\/1\.1 202/)
  assert.match(answer, /idempotent-replayed: true/i)
  assert.ok(answer.includes(ids(retry)[0]!), 'the first copy is answered with the job of the retry')
  assert.equal((await app.app.inject({ url: '/api/v1/jobs' })).json().jobs.length, 1, 'one job')
})

for (const store of STORES) test(`[${store}] concurrent retries with one key on two coordinators sharing the database create the jobs once`, { timeout: 60_000 }, async (t) => {
  // Each coordinator's own in-progress guard cannot see the other's requests: only the database can.
  const { db, close } = await freshStore(store)
  const [a, b] = [await listeningApp(t, { sharedDb: db }), await listeningApp(t, { sharedDb: db })]
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => submit(i % 2 ? a : b, 2, { 'idempotency-key': 'race-across' })))
  const accepted = results.filter((r) => r.statusCode === 202)
  assert.ok(accepted.length >= 1)
  assert.ok(results.every((r) => r.statusCode === 202 || r.statusCode === 409), results.map((r) => r.statusCode).join(','))
  assert.equal(new Set(accepted.map((r) => ids(r).join())).size, 1, 'every 202 names the same two jobs')
  assert.equal((await a.app.inject({ url: '/api/v1/jobs' })).json().jobs.length, 2)
  t.after(close)
})

for (const store of STORES) test(`[${store}] concurrent submits with one key create the jobs once`, { timeout: 60_000 }, async (t) => {
  const app = await listeningApp(t, { store })
  const results = await Promise.all(Array.from({ length: 8 }, () => submit(app, 1, { 'idempotency-key': 'race' })))
  const accepted = results.filter((r) => r.statusCode === 202)
  assert.ok(accepted.length >= 1)
  assert.ok(results.every((r) => r.statusCode === 202 || r.statusCode === 409), results.map((r) => r.statusCode).join(','))
  assert.equal(new Set(accepted.map((r) => ids(r)[0])).size, 1)
  assert.equal((await app.app.inject({ url: '/api/v1/jobs' })).json().jobs.length, 1)
})

for (const store of STORES) test(`[${store}] draining: uploads get 503 with Retry-After, workers are told, held jobs may still finish`, { timeout: 60_000 }, async (t) => {
  const app = await listeningApp(t, { store })
  const w = await app.worker()
  const [id, waiting] = ids(await submit(app, 2))
  const a = await w.assignment(0)
  const drained = app.drain(3_000)
  await w.waitFor(() => w.messages.some((m) => m.type === 'coordinator.draining'), 3_000, 'coordinator.draining')
  const refused = await submit(app, 1)
  assert.equal(refused.statusCode, 503)
  assert.equal(refused.json().code, 'SHUTTING_DOWN')
  assert.ok(Number(refused.headers['retry-after']) > 0)
  w.succeed(a)
  await drained
  assert.equal((await job(app, id!)).status, 'succeeded')
  // The slot is free and a job is queued: nudge the dispatcher, then wait for its pass to end (stop()
  // awaits it) instead of sleeping; any claim it made would show in the job's status.
  app.pump.jobsMayBeQueued()
  await app.pump.stop()
  assert.equal((await job(app, waiting!)).status, 'queued', 'nothing new is dispatched while draining')
  assert.equal(w.assignments.length, 1)
})

for (const store of STORES) test(`[${store}] a draining worker gets nothing new; jobs it hands back are requeued without using an attempt`, { timeout: 60_000 }, async (t) => {
  const app = await listeningApp(t, { store })
  const w = await app.worker({ slots: 2 })
  assert.equal(ids(await submit(app, 2)).length, 2)
  const [ja, jb] = [await w.assignment(0), await w.assignment(1)]
  // Named by what the worker got, not by upload order: the two may arrive in either order.
  const [a, b] = [ja.job.jobId, jb.job.jobId]
  w.send({ type: 'worker.drain' })
  w.send({ type: 'job.release', jobId: jb.job.jobId, leaseToken: jb.job.leaseToken })
  await eventually(async () => (await job(app, b)).status === 'queued', 'released', 10_000)
  assert.equal((await job(app, b)).attempts, 0)
  w.succeed(ja)
  assert.equal((await job(app, a, 5)).status, 'succeeded')
  const other = await app.worker()
  const again = await other.assignment(0)
  assert.equal(again.job.jobId, b)
  assert.equal(again.job.attempt, 1)
  assert.equal(w.assignments.length, 2)
})
