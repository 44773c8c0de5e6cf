import assert from 'node:assert/strict'
import { test } from 'node:test'
import { jobIdsOf } from '../../src/events/event-hub.ts'
import { LatencyWindow, percentile } from '../../src/events/latency-window.ts'

test('nearest-rank percentiles', { timeout: 5_000 }, () => {
  assert.equal(percentile([], 0.5), null)
  assert.equal(percentile([7], 0.95), 7)
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1)
  assert.equal(percentile(hundred, 0.5), 50)
  assert.equal(percentile(hundred, 0.95), 95)
})

test('the latency window counts each job once and forgets what is older than the window', { timeout: 5_000 }, () => {
  const w = new LatencyWindow(60_000)
  w.add('a', 1_000, 100)
  w.add('a', 1_000, 100)
  w.add('b', 30_000, 300)
  assert.deepEqual(w.percentiles(30_000), { p50: 100, p95: 300, samples: 2 })
  assert.deepEqual(w.percentiles(61_500), { p50: 300, p95: 300, samples: 1 })
  w.add('a', 62_000, 50)
  assert.equal(w.percentiles(62_000).samples, 2, 'a forgotten job may be counted again')
})

test('job ids from the rows of every kind that names jobs, each once, in order; other kinds name none', { timeout: 5_000 }, () => {
  const rows = [
    { kind: 'feed.jobs', payload: JSON.stringify({ jobIds: ['j1', 'j2'] }) },
    { kind: 'jobs.queued', payload: '{}' },
    { kind: 'jobs.finished', payload: JSON.stringify({ jobIds: ['j2', 'j3'] }) },
    { kind: 'job.canceled', payload: JSON.stringify({ jobId: 'j4', workerId: 'w', token: 1 }) },
    { kind: 'feed.workers', payload: '{}' },
    { kind: 'feed.jobs', payload: 'not json' },
  ]
  assert.deepEqual(jobIdsOf(rows), ['j1', 'j2', 'j3', 'j4'])
})
