import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BASE_BYTES, EXTRA_MODEL_BYTES, PAGE_BYTES, relaunchDelay, sizeRuntime } from '../src/launcher/runtime-sizing.ts'
import { PagePool } from '../src/launcher/page-pool.ts'
import { chooseThreads } from '../src/page/thread-choice.ts'

const GiB = 2 ** 30
const plenty = (cores: number) => ({ cores, availableBytes: 16 * GiB })

test('throughput: one single-thread page per core; latency: one page with a thread per core', { timeout: 5_000 }, () => {
  assert.deepEqual(pick(sizeRuntime(plenty(2), { profile: 'throughput' })), [2, 1])
  assert.deepEqual(pick(sizeRuntime(plenty(8), { profile: 'throughput' })), [8, 1])
  assert.deepEqual(pick(sizeRuntime(plenty(2), { profile: 'latency' })), [1, 2])
  assert.deepEqual(pick(sizeRuntime(plenty(1), { profile: 'latency' })), [1, 1])
})

test('memory caps the pages, and the threads grow so the cores stay busy', { timeout: 5_000 }, () => {
  // A 1 GiB VM with ~700 MiB available: (700 − base) / page = 2 pages at most.
  const vm = { cores: 4, availableBytes: BASE_BYTES + 2.5 * PAGE_BYTES }
  const s = sizeRuntime(vm, { profile: 'throughput' })
  assert.deepEqual(pick(s), [2, 2])
  assert.match(s.reason, /capped by memory to 2/)
  assert.deepEqual(s.warnings, [])
  assert.deepEqual(pick(sizeRuntime({ cores: 2, availableBytes: 100 * 2 ** 20 }, { profile: 'throughput' })), [1, 2])
})

test('pages that keep several models warm take more memory: fewer fit, and each is told its budget', { timeout: 5_000 }, () => {
  const vm = { cores: 4, availableBytes: BASE_BYTES + 3 * PAGE_BYTES }
  assert.deepEqual(pick(sizeRuntime(vm, { profile: 'throughput' })), [3, 1])
  // 3 × 180 MiB hold one page of 180 + 2 × 55: one page, with a thread per core.
  assert.equal(Math.floor((3 * PAGE_BYTES) / (PAGE_BYTES + 2 * EXTRA_MODEL_BYTES)), 1)
  assert.deepEqual(pick(sizeRuntime(vm, { profile: 'throughput', models: 3 })), [1, 4])
  const pool = new PagePool({ coordinatorUrl: 'http://c:8080', pages: 1, models: 3, heapMb: 512, executablePath: '/usr/bin/chromium', name: 'vm1', log: () => undefined })
  const url = new URL(pool.pageUrl(0))
  assert.deepEqual([url.searchParams.get('models'), url.searchParams.get('heapMb')], ['3', '512'])
  assert.equal(new URL(new PagePool({ coordinatorUrl: 'http://c:8080', pages: 1, executablePath: '/usr/bin/chromium', name: 'vm1', log: () => undefined }).pageUrl(0)).searchParams.get('models'), null, 'the page\'s own default otherwise')
})

test('explicit pages and threads win, with a warning when they oversubscribe the cores or the memory', { timeout: 5_000 }, () => {
  assert.deepEqual(pick(sizeRuntime(plenty(2), { profile: 'latency', pages: 2 })), [2, 1])
  assert.deepEqual(pick(sizeRuntime(plenty(4), { profile: 'throughput', threads: 2 })), [2, 2])
  const over = sizeRuntime(plenty(2), { profile: 'throughput', pages: 2, threads: 2 })
  assert.deepEqual(pick(over), [2, 2])
  assert.match(over.warnings.join(), /more busy wasm threads than the 2 cores/)
  const tight = sizeRuntime({ cores: 8, availableBytes: BASE_BYTES + PAGE_BYTES }, { profile: 'throughput', pages: 4 })
  assert.match(tight.warnings.join(), /MiB are available/)
})

test('Chromium relaunches back off exponentially and stay capped at 10 s', { timeout: 5_000 }, () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 50].map(relaunchDelay), [500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000])
})

test('a page runs the threads it is told to when isolated, one when not; a volunteer keeps half its cores', { timeout: 5_000 }, () => {
  assert.equal(chooseThreads('2', true, 2), 2)
  assert.equal(chooseThreads('2', false, 8), 1)
  assert.equal(chooseThreads(null, true, 8), 4)
  assert.equal(chooseThreads(null, true, 2), 1)
  assert.equal(chooseThreads('zero', true, 16), 4)
})

function pick(s: { pages: number; threads: number }): [number, number] {
  return [s.pages, s.threads]
}
