import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import type { JobView, StreamHistory, StreamReady, StreamStats, WorkerView } from '@hivesight/protocol'
import { DIALECTS, freshDb } from '../support/databases.ts'
import { tinyPng } from '../support/images.ts'
import { listeningApp, type ListeningApp } from '../support/listening-app.ts'
import { isJob, SseClient } from '../support/sse-client.ts'
import { multipart } from '../support/test-app.ts'

// GET /api/v1/events over real HTTP (an SSE response never ends, so app.inject cannot read it).

async function stream(t: TestContext, app: { url: string }, headers: Record<string, string> = {}): Promise<SseClient> {
  const c = await SseClient.open(`${app.url}/api/v1/events`, headers)
  t.after(() => c.close())
  return c
}

async function submit(app: ListeningApp, n: number, headers: Record<string, string> = {}): Promise<string[]> {
  const files = Array.from({ length: n }, (_, i) => ({ name: `p${i}.png`, type: 'image/png', data: tinyPng() }))
  const body = multipart(files)
  const res = await app.app.inject({ method: 'POST', url: '/api/v1/jobs', payload: body.payload, headers: { ...body.headers, ...headers } })
  assert.equal(res.statusCode, 202, res.body)
  return (res.json() as { jobs: { id: string }[] }).jobs.map((j) => j.id)
}

test('the stream says ready, lists the workers, then follows a job from queued to succeeded and a worker joining and leaving', { timeout: 30_000 }, async (t) => {
  const app = await listeningApp(t)
  const s = await stream(t, app)
  assert.equal(s.status, 200)
  assert.match(s.contentType, /^text\/event-stream/)
  const ready = await s.next((e) => e.event === 'ready', 5_000, 'ready')
  assert.equal((ready.data as StreamReady).resumed, false)
  assert.match(ready.id ?? '', /^\d+$/, 'ready carries the position to resume from')
  assert.deepEqual(await s.next((e) => e.event === 'workers').then((e) => e.data), { workers: [] })

  const [id] = await submit(app, 1)
  await s.next(isJob(id!, 'queued'), 5_000, 'the job queued')
  const worker = await app.worker({ name: 'sim' })
  const joined = await s.next((e) => e.event === 'worker.joined', 5_000, 'worker.joined')
  assert.equal((joined.data as WorkerView).name, 'sim')
  const a = await worker.assignment(0)
  await s.next(isJob(id!, 'running'), 5_000, 'the job running')
  worker.succeed(a, [9])
  const done = await s.next(isJob(id!, 'succeeded'), 5_000, 'the job succeeded')
  assert.equal((done.data as JobView).result?.predictions[0]?.wnid, 'n01514859')
  assert.match(s.lastEventId ?? '', /^\d+$/)
  await worker.close()
  const left = await s.next((e) => e.event === 'worker.left', 5_000, 'worker.left')
  assert.equal((left.data as { id: string }).id, (joined.data as WorkerView).id)
  const stats = await s.next((e) => e.event === 'stats', 5_000, 'stats')
  assert.equal(typeof (stats.data as { queued: number }).queued, 'number')
})

test('figures are kept while nobody listens: a stream opened later gets them as history right after ready', { timeout: 30_000 }, async (t) => {
  const app = await listeningApp(t)
  await submit(app, 2)
  // Two 2 s ticks (or more) with no stream open; the test clock moves with them.
  for (let i = 0; i < 5; i++) {
    app.clock.advance(1_000)
    await new Promise((r) => setTimeout(r, 1_000))
  }
  const opened = app.clock.now()
  const s = await stream(t, app)
  const ready = await s.next((e) => e.event === 'ready', 5_000, 'ready')
  const next = s.events[s.events.indexOf(ready) + 1] ?? (await s.next((e) => e !== ready, 5_000, 'the event after ready'))
  assert.equal(next.event, 'history', 'history follows ready')
  const h = next.data as StreamHistory
  assert.equal(h.windowMs, 15 * 60_000)
  assert.ok(h.points.length >= 2, `${h.points.length} points from before the stream opened`)
  const times = h.points.map((p) => p.at)
  assert.deepEqual(times, [...times].sort((a, b) => a - b), 'oldest first')
  assert.equal(new Set(times).size, times.length, 'one point per tick')
  assert.ok(times.every((at) => at <= opened), 'all from before the stream opened')
  assert.equal(h.points.at(-1)!.queued, 2, 'the queue depth of the jobs submitted')
  assert.ok(!('totals' in h.points[0]!), 'the chart figures only')
  app.clock.advance(2_000)
  const live = await s.next((e) => e.event === 'stats' && (e.data as StreamStats).at > times.at(-1)!, 5_000, 'a live tick after the history')
  assert.equal((live.data as StreamStats).queued, 2)
})

test('keys mode: no key → 401; each key sees only its own jobs; a key in the URL is refused', { timeout: 30_000 }, async (t) => {
  const app = await listeningApp(t, { env: { AUTH_MODE: 'keys' } })
  const none = await SseClient.open(`${app.url}/api/v1/events`)
  assert.equal(none.status, 401)
  assert.equal((JSON.parse(none.body) as { code: string }).code, 'API_KEY_REQUIRED')
  const [alice, bob] = [await app.apiKey('alice'), await app.apiKey('bob')]
  const inUrl = await SseClient.open(`${app.url}/api/v1/events?api_key=${alice}`)
  assert.equal(inUrl.status, 400)
  const sa = await stream(t, app, { authorization: `Bearer ${alice}` })
  const sb = await stream(t, app, { authorization: `Bearer ${bob}` })
  await sa.next((e) => e.event === 'ready')
  await sb.next((e) => e.event === 'ready')
  const [mine] = await submit(app, 1, { authorization: `Bearer ${alice}` })
  const [theirs] = await submit(app, 1, { authorization: `Bearer ${bob}` })
  await sa.next(isJob(mine!), 5_000, "alice's job on alice's stream")
  await sb.next(isJob(theirs!), 5_000, "bob's job on bob's stream")
  await new Promise((r) => setTimeout(r, 300))
  assert.ok(!sa.events.some(isJob(theirs!)), "alice never sees bob's job")
  assert.ok(!sb.events.some(isJob(mine!)), "bob never sees alice's job")
})

test('Last-Event-ID: jobs changed while disconnected are sent before ready; an unknown or pruned id gets a reset', { timeout: 30_000 }, async (t) => {
  const app = await listeningApp(t)
  const first = await stream(t, app)
  await first.next((e) => e.event === 'ready')
  const [before] = await submit(app, 1)
  await first.next(isJob(before!), 5_000, 'the first job')
  const resumeFrom = first.lastEventId!
  first.close()
  // A second stream keeps the hub reading while the first is away.
  const other = await stream(t, app)
  await other.next((e) => e.event === 'ready')
  const missed = await submit(app, 3)
  for (const id of missed) await other.next(isJob(id), 5_000, 'the missed jobs on the other stream')

  const again = await stream(t, app, { 'last-event-id': resumeFrom })
  const ready = await again.next((e) => e.event === 'ready', 5_000, 'ready after the replay')
  assert.equal((ready.data as StreamReady).resumed, true)
  const replayed = again.events.slice(0, again.events.indexOf(ready)).filter((e) => e.event === 'job').map((e) => (e.data as JobView).id)
  for (const id of missed) assert.ok(replayed.includes(id), `job ${id} missed while away is replayed`)
  assert.ok(!replayed.includes(before!), 'what the client had seen is not replayed')

  const future = await stream(t, app, { 'last-event-id': '999999999' })
  await future.next((e) => e.event === 'reset', 5_000, 'a reset for an id from the future')
  await app.db.kysely.deleteFrom('coordinator_events').execute()
  await submit(app, 1)
  await other.next((e) => e.event === 'job' && !missed.includes((e.data as JobView).id) && (e.data as JobView).id !== before, 5_000, 'a job after the prune')
  const pruned = await stream(t, app, { 'last-event-id': resumeFrom })
  const reset = await pruned.next((e) => e.event === 'reset', 5_000, 'a reset for a pruned id')
  assert.match((reset.data as { reason: string }).reason, /kept/)
  assert.equal(((await pruned.next((e) => e.event === 'ready')).data as StreamReady).resumed, false)
})

for (const dialect of DIALECTS) {
  test(`[${dialect}] two coordinators on one database: a stream on B sees an upload to A, A's worker and its result`, { timeout: 60_000 }, async (t) => {
    const { db, close } = await freshDb(dialect)
    const a = await listeningApp(t, { sharedDb: db, env: { COORDINATOR_ID: 'coord-a' } })
    const b = await listeningApp(t, { sharedDb: db, env: { COORDINATOR_ID: 'coord-b' } })
    t.after(close)
    const s = await stream(t, b)
    const ready = await s.next((e) => e.event === 'ready')
    assert.equal((ready.data as StreamReady).coordinator, 'coord-b')
    const worker = await a.worker({ name: 'on-a' })
    await s.next((e) => e.event === 'worker.joined' && (e.data as WorkerView).name === 'on-a', 5_000, "A's worker on B's stream")
    const [id] = await submit(a, 1)
    const assignment = await worker.assignment(0)
    worker.succeed(assignment, [9])
    await s.next(isJob(id!, 'succeeded'), 10_000, "A's job succeeded, on B's stream")
    // Resuming on A from B's first id works: ids are rows of the shared table.
    const resumed = await stream(t, a, { 'last-event-id': ready.id! })
    await resumed.next((e) => e.event === 'ready' && (e.data as StreamReady).resumed, 5_000, 'resumed on A')
    assert.ok(resumed.events.some(isJob(id!, 'succeeded')), 'the job is replayed by the other coordinator, as it is now')
  })
}

test('the OpenAPI document describes the stream', { timeout: 10_000 }, async (t) => {
  const app = await listeningApp(t)
  const doc = (await app.app.inject({ url: '/api/v1/openapi.json' })).json() as { paths: Record<string, { get?: { responses: Record<string, { content?: Record<string, unknown> }> } }> }
  const get = doc.paths['/api/v1/events']?.get
  assert.ok(get, 'GET /api/v1/events is documented')
  assert.ok(get.responses['200']?.content?.['text/event-stream'], 'as text/event-stream')
  assert.match(JSON.stringify(get.responses['200']?.content?.['text/event-stream']), /"history"/, 'the history event among them')
})
