import assert from 'node:assert/strict'
import { test } from 'node:test'
import { tinyPng } from '../support/images.ts'
import { listeningApp } from '../support/listening-app.ts'
import { STORES } from '../support/databases.ts'
import { buildTestApp, multipart } from '../support/test-app.ts'

for (const store of STORES) test(`[${store}] /metrics reports uploads, jobs by status, workers, latencies and refused answers in Prometheus format`, { timeout: 60_000 }, async (t) => {
  const app = await listeningApp(t, { store })
  const w = await app.worker()
  const res = await app.app.inject({ method: 'POST', url: '/api/v1/jobs', ...multipart([{ name: 'a.png', type: 'image/png', data: tinyPng() }]) })
  const id = res.json().jobs[0].id
  const a = await w.assignment(0)
  w.succeed(a)
  assert.equal((await app.app.inject({ url: `/api/v1/jobs/${id}?wait=5` })).json().status, 'succeeded')
  w.succeed(a) // a replay: refused and counted
  await w.waitFor(() => app.counters.staleResults === 1, 3_000, 'replay refused')
  const metrics = await app.app.inject({ url: '/metrics' })
  assert.equal(metrics.statusCode, 200)
  assert.match(String(metrics.headers['content-type']), /text\/plain/)
  const body = metrics.body
  for (const line of [
    'hivesight_images_accepted_total 1',
    'hivesight_jobs{status="running"} 0',
    'hivesight_jobs{status="queued"} 0',
    'hivesight_workers_connected{kind="headless"} 1',
    'hivesight_jobs_finished_total{outcome="succeeded"} 1',
    'hivesight_stale_answers_total 1',
    'hivesight_job_seconds_count 1',
    'hivesight_dispatch_wait_seconds_count 1',
    'hivesight_worker_inference_ms_count 1',
  ]) assert.ok(body.includes(line), `missing: ${line}`)
})

test('with METRICS_TOKEN set, /metrics needs it as a Bearer token', async (t) => {
  const { app } = await buildTestApp(t, { env: { METRICS_TOKEN: 'scrape-secret-0123456789' } })
  assert.equal((await app.inject({ url: '/metrics' })).statusCode, 401)
  const wrong = await app.inject({ url: '/metrics', headers: { authorization: 'Bearer scrape-secret-0123456780' } })
  assert.equal(wrong.statusCode, 401)
  assert.equal(wrong.json().code, 'METRICS_TOKEN_REQUIRED')
  assert.equal((await app.inject({ url: '/metrics', headers: { authorization: 'Bearer scrape-secret-0123456789' } })).statusCode, 200)
})
