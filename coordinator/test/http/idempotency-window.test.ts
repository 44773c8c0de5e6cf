import assert from 'node:assert/strict'
import { test } from 'node:test'
import { IDEMPOTENCY_TTL_MS } from '../../src/jobs/job-service.ts'
import { STORES } from '../support/databases.ts'
import { tinyPng } from '../support/images.ts'
import { buildTestApp, multipart, type TestApp } from '../support/test-app.ts'

// What the code promises: a key is kept at least 24 h (a replay inside the window answers with the same
// jobs) and is forgotten by the expiry pass that runs after it; the app runs that pass every hour, so a
// key lives 24–25 h. The app's fake clock stands in for the day; the pass is called as the hourly timer does.
const HOUR = 3600_000

async function submit(app: TestApp, key: string) {
  const body = multipart([{ name: 'a.png', type: 'image/png', data: tinyPng() }])
  const res = await app.app.inject({ method: 'POST', url: '/api/v1/jobs', payload: body.payload, headers: { ...body.headers, 'idempotency-key': key } })
  assert.equal(res.statusCode, 202, res.body)
  return { ids: (res.json().jobs as { id: string }[]).map((j) => j.id), replayed: res.headers['idempotent-replayed'] === 'true' }
}

for (const store of STORES) test(`[${store}] Idempotency-Key: kept 24 h (a replay gets the same jobs), forgotten by the expiry pass after that`, { timeout: 30_000 }, async (t) => {
  assert.equal(IDEMPOTENCY_TTL_MS, 24 * HOUR)
  const app = await buildTestApp(t, { store })
  const first = await submit(app, 'daily-batch')
  assert.equal(first.replayed, false)

  app.clock.advance(24 * HOUR - 60_000)
  assert.equal(await app.jobs.expireIdempotencyKeys(), 0, 'a key one minute short of 24 h is kept')
  const withinDay = await submit(app, 'daily-batch')
  assert.deepEqual(withinDay.ids, first.ids, 'a replay within 24 h names the same jobs')
  assert.equal(withinDay.replayed, true)

  // Past 24 h the key still answers until the next pass removes it ("at least 24 h").
  app.clock.advance(2 * 60_000)
  assert.deepEqual((await submit(app, 'daily-batch')).ids, first.ids, 'before the pass, still the same jobs')
  assert.equal(await app.jobs.expireIdempotencyKeys(), 1, 'the pass forgets the key')
  const afterDay = await submit(app, 'daily-batch')
  assert.equal(afterDay.replayed, false)
  assert.notDeepEqual(afterDay.ids, first.ids, 'after the window the same key makes new jobs')
  assert.equal((await app.app.inject({ url: '/api/v1/jobs' })).json().jobs.length, 2)
})
