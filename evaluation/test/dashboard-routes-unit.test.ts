import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { StatsPoint } from '@hivesight/protocol'
import { HOME, parseRoute, routeHash, screenOf, STATUS_FILTERS, type Route } from '../../dashboard/src/lib/routes.ts'
import { columns, MIN_SPAN_S, mergePoints, timeLabel, timeRange } from '../../dashboard/src/lib/stats-series.ts'

// The dashboard's pure modules (no Svelte): its hash routes and the Overview's series. The page itself is
// driven in Chromium by dashboard-routes.test.ts.

test('every screen, the job board with its filter and a job parse from their hash and format back to it', { timeout: 5_000 }, () => {
  const routes: [string, Route][] = [
    ['#/overview', { screen: 'overview' }],
    ['#/submit', { screen: 'submit' }],
    ['#/jobs', { screen: 'jobs', status: 'all', q: '' }],
    ['#/jobs?status=failed', { screen: 'jobs', status: 'failed', q: '' }],
    ['#/jobs?status=succeeded&q=tabby+cat', { screen: 'jobs', status: 'succeeded', q: 'tabby cat' }],
    ['#/jobs?q=a%26b%3Dc', { screen: 'jobs', status: 'all', q: 'a&b=c' }],
    ['#/jobs/0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', { screen: 'job', id: '0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b' }],
    ['#/workers', { screen: 'workers' }],
    ['#/models', { screen: 'models' }],
    ['#/volunteer', { screen: 'volunteer' }],
  ]
  for (const [hash, route] of routes) {
    assert.deepEqual(parseRoute(hash), route, hash)
    assert.equal(routeHash(route), hash, `${hash} formats back`)
  }
  for (const status of STATUS_FILTERS) {
    const r: Route = { screen: 'jobs', status, q: '' }
    assert.deepEqual(parseRoute(routeHash(r)), r, status)
  }
})

test('no hash is the overview; sloppy spellings are forgiven; a filter nobody knows means no filter', { timeout: 5_000 }, () => {
  for (const hash of ['', '#', '#/', '#//']) assert.deepEqual(parseRoute(hash), HOME, JSON.stringify(hash))
  assert.deepEqual(parseRoute('#jobs'), { screen: 'jobs', status: 'all', q: '' })
  assert.deepEqual(parseRoute('#/workers/'), { screen: 'workers' })
  assert.deepEqual(parseRoute('#/jobs?status=bogus&q=%20%20'), { screen: 'jobs', status: 'all', q: '' })
  assert.deepEqual(parseRoute('#/jobs?status=dead&page=3'), { screen: 'jobs', status: 'dead', q: '' }, 'unknown parameters are ignored')
  assert.equal(routeHash({ screen: 'jobs', status: 'all', q: '  ' }), '#/jobs', 'an empty filter is no query at all')
  assert.equal(routeHash({ screen: 'job', id: 'a/b?c' }), '#/jobs/a%2Fb%3Fc')
  assert.deepEqual(parseRoute('#/jobs/a%2Fb%3Fc'), { screen: 'job', id: 'a/b?c' })
})

test('an unknown screen, a path too deep, a bad escape or an absurd id is not found (and says what was asked)', { timeout: 5_000 }, () => {
  assert.deepEqual(parseRoute('#/nope'), { screen: 'not-found', path: '/nope' })
  assert.equal(routeHash(parseRoute('#/nope')), '#/nope')
  for (const hash of ['#/jobs/x/y', '#/workers/1', '#/overview/more', '#/%E0%A4%A', '#/jobs//x', `#/jobs/${'x'.repeat(201)}`, '#/Overview']) {
    assert.equal(parseRoute(hash).screen, 'not-found', hash)
  }
})

test('a job detail belongs to Jobs in the nav; a page not found to nothing', { timeout: 5_000 }, () => {
  assert.equal(screenOf({ screen: 'job', id: 'x' }), 'jobs')
  assert.equal(screenOf({ screen: 'jobs', status: 'all', q: '' }), 'jobs')
  assert.equal(screenOf({ screen: 'workers' }), 'workers')
  assert.equal(screenOf({ screen: 'not-found', path: '/x' }), null)
})

const point = (at: number, queued = 0): StatsPoint => ({
  at, imagesPerSecond: 1, latencyMs: { p50: 100, p95: 200, samples: 3 }, queued, running: 0, workers: 1, slots: 2, busy: 0,
})

test('history and live ticks merge oldest first, once per timestamp, within the window', { timeout: 5_000 }, () => {
  const history = [point(1_000), point(3_000), point(5_000)]
  // The live tick already in the history, then one after it.
  let merged = mergePoints([], history)
  merged = mergePoints(merged, [point(5_000, 7)])
  merged = mergePoints(merged, [point(7_000)])
  assert.deepEqual(merged.map((p) => p.at), [1_000, 3_000, 5_000, 7_000])
  assert.equal(merged[2]!.queued, 7, 'the later copy of a tick wins')
  // A reconnect's history overlaps what the page has and fills a gap.
  merged = mergePoints([point(1_000), point(9_000)], [point(5_000), point(9_000), point(11_000)])
  assert.deepEqual(merged.map((p) => p.at), [1_000, 5_000, 9_000, 11_000])
  // Nothing older than the window before the newest point stays.
  assert.deepEqual(mergePoints([point(0), point(5_000)], [point(12_000)], 10_000).map((p) => p.at), [5_000, 12_000])
  assert.deepEqual(mergePoints([], []), [])
})

test('the charts get one column per series, times in seconds', { timeout: 5_000 }, () => {
  const c = columns([point(2_000, 1), { ...point(4_000, 2), latencyMs: { p50: null, p95: null, samples: 0 } }])
  assert.deepEqual(c, { at: [2, 4], imagesPerSecond: [1, 1], p50: [100, null], p95: [200, null], queued: [1, 2], workers: [1, 1] })
})

test('the time axis is never degenerate: none or one point still spans a minute, ending now or at the point', { timeout: 5_000 }, () => {
  const now = 1_760_000_000
  assert.deepEqual(timeRange([], now), [now - MIN_SPAN_S, now])
  assert.deepEqual(timeRange([now - 30], now), [now - 30 - MIN_SPAN_S, now - 30])
  assert.deepEqual(timeRange([now - 900, now - 450, now - 2], now), [now - 900, now - 2], 'a long history spans itself')
  for (const [from, to] of [timeRange([], now), timeRange([now], now)]) assert.ok(to - from >= MIN_SPAN_S && from > 0)
})

test('tick labels read hh:mm:ss on a 24-hour clock, never the epoch\'s "12:00:00 AM"', { timeout: 5_000 }, () => {
  assert.equal(timeLabel(Date.UTC(2025, 0, 2, 8, 54, 30) / 1000, 'UTC'), '08:54:30')
  assert.equal(timeLabel(Date.UTC(2025, 0, 2, 0, 0, 0) / 1000, 'UTC'), '00:00:00')
  assert.equal(timeLabel(Date.UTC(2025, 0, 2, 23, 5, 9) / 1000, 'UTC'), '23:05:09')
  assert.match(timeLabel(Date.now() / 1000), /^\d\d:\d\d:\d\d$/)
})
