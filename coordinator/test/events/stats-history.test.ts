import assert from 'node:assert/strict'
import { test } from 'node:test'
import { StatsHistory } from '../../src/events/stats-history.ts'

const at = (h: StatsHistory<{ at: number }>, now: number) => h.list(now).map((e) => e.at)

test('the history keeps the window ending now, oldest first, and forgets what is older', { timeout: 5_000 }, () => {
  const h = new StatsHistory<{ at: number; v: number }>(10_000, 100)
  assert.deepEqual(h.list(0), [])
  for (let t = 0; t <= 20_000; t += 2_000) h.add({ at: t, v: t / 1000 })
  assert.deepEqual(at(h, 20_000), [10_000, 12_000, 14_000, 16_000, 18_000, 20_000])
  assert.equal(h.length, 6, 'older entries are dropped, not only hidden')
  assert.deepEqual(at(h, 60_000), [], 'a long silence empties it')
})

test('a full ring overwrites its oldest entries and stays in order across the wrap', { timeout: 5_000 }, () => {
  const h = new StatsHistory<{ at: number }>(1_000_000, 4)
  for (let t = 1; t <= 10; t++) h.add({ at: t })
  assert.deepEqual(at(h, 10), [7, 8, 9, 10])
  assert.equal(h.length, 4)
  h.add({ at: 11 })
  assert.deepEqual(at(h, 11), [8, 9, 10, 11])
})

test('entries not newer than the last one are dropped (a clock stepped back keeps the order)', { timeout: 5_000 }, () => {
  const h = new StatsHistory<{ at: number }>(60_000, 10)
  h.add({ at: 5_000 })
  h.add({ at: 5_000 })
  h.add({ at: 4_000 })
  h.add({ at: 7_000 })
  assert.deepEqual(at(h, 7_000), [5_000, 7_000])
})

test('sized for its ticks: 15 min of 2 s ticks fit with room for jitter; a bad size is refused', { timeout: 5_000 }, () => {
  const h = StatsHistory.forTicks<{ at: number }>(15 * 60_000, 2_000)
  assert.ok(h.capacity >= 451, `capacity ${h.capacity}`)
  for (let t = 0; t <= 15 * 60_000; t += 2_000) h.add({ at: t })
  assert.equal(h.list(15 * 60_000).length, 451, 'every tick of the window, both ends included')
  assert.throws(() => new StatsHistory(1_000, 0), RangeError)
})
