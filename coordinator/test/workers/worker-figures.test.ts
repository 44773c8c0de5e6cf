import assert from 'node:assert/strict'
import { test } from 'node:test'
import { FakeClock } from '../../src/jobs/clock.ts'
import { RecentRate, WorkerFigures, ewma } from '../../src/workers/worker-figures.ts'

const quick = { timeout: 5_000 }

test('ewma: the first sample is the mean; each next one pulls it a fifth of the way', quick, () => {
  assert.equal(ewma(null, 40), 40)
  assert.equal(ewma(10, 20), 12)
  assert.equal(ewma(10, 20, 0.5), 15)
  let mean: number | null = null
  for (const x of [10, 10, 10]) mean = ewma(mean, x)
  assert.equal(mean, 10, 'a steady time is its own mean')
  // One outlier moves the mean by a fifth of its excess; ten normal results take most of it back.
  mean = ewma(mean, 510)
  assert.equal(mean, 110)
  for (let i = 0; i < 10; i++) mean = ewma(mean, 10)
  assert.ok(Math.abs(mean - (10 + 100 * 0.8 ** 10)) < 1e-9, `ten results later ~89% of the excess is gone: ${mean}`)
})

test('recent rate: a steady 20/s reads 20; a stopped worker fades to 0 within 10 s', quick, () => {
  const clock = new FakeClock(0)
  const rate = new RecentRate(clock.now())
  for (; clock.now() < 30_000; clock.advance(50)) rate.add(clock.now())
  assert.equal(rate.perSecond(clock.now()), 20)
  clock.advance(5_000)
  // The window is the 10 one-second buckets up to now: 26…35 s, 9 s of it elapsed; 26…29 s held 80 results.
  assert.equal(rate.perSecond(clock.now()), 80 / 9)
  clock.advance(5_000)
  assert.equal(rate.perSecond(clock.now()), 0)
  // After a gap longer than the window, only the new results count.
  clock.advance(60_000)
  rate.add(clock.now(), 3)
  assert.equal(rate.perSecond(clock.now() + 500), 3 / 9.5, 'three in the 9.5 s the window covers')
})

test('recent rate: a worker that just joined is measured over the time since it joined, not the whole window', quick, () => {
  const clock = new FakeClock(1_700_000_000_000)
  const rate = new RecentRate(clock.now())
  for (let i = 0; i < 10; i++) {
    clock.advance(200)
    rate.add(clock.now())
  }
  assert.equal(rate.perSecond(clock.now()), 5, '10 results in 2 s')
  const fresh = new RecentRate(clock.now())
  fresh.add(clock.now() + 10)
  assert.equal(fresh.perSecond(clock.now() + 10), 1, 'one early result counts over at least 1 s, not as a spike')
})

test('recent rate: a clock that steps back keeps counting instead of losing results', quick, () => {
  const rate = new RecentRate(0)
  rate.add(5_000)
  rate.add(4_000)
  assert.equal(rate.perSecond(5_000), 2 / 5)
})

test('worker figures: recorded per worker from join to leave, rounded, unknown workers ignored', quick, () => {
  const clock = new FakeClock(10_000)
  const figures = new WorkerFigures()
  figures.start('a', clock.now())
  figures.start('b', clock.now())
  assert.deepEqual(figures.read('a', clock.now()), { imagesPerSecond: 0, inferMs: null, prepareMs: null })
  clock.advance(1_000)
  figures.record('a', { decodeMs: 3, inferMs: 30 }, clock.now())
  figures.record('a', { decodeMs: 4, inferMs: 40.333 }, clock.now())
  figures.record('gone', { decodeMs: 1, inferMs: 1 }, clock.now())
  assert.deepEqual(figures.read('a', clock.now()), { imagesPerSecond: 2, inferMs: 32.07, prepareMs: 3.2 })
  assert.deepEqual([...figures.readAll(['a', 'b', 'gone'], clock.now()).keys()], ['a', 'b'])
  figures.forget('a')
  assert.equal(figures.read('a', clock.now()), undefined)
  assert.equal(figures.read('gone', clock.now()), undefined)
})
