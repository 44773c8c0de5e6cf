import assert from 'node:assert/strict'
import { test } from 'node:test'
import { EventCursor } from '../../src/jobs/event-cursor.ts'

test('events are delivered once, in order, from after the starting point', () => {
  const c = new EventCursor(10)
  assert.equal(c.readAfter, 10)
  assert.deepEqual([...c.accept([11, 12], 0)], [11, 12])
  assert.equal(c.readAfter, 12)
  assert.deepEqual([...c.accept([11, 12, 13], 0)], [13], 'what was seen is not delivered again')
})

test('an id committed late (seen after a higher one) is read again and delivered when it appears', () => {
  const c = new EventCursor(0)
  assert.deepEqual([...c.accept([1, 3], 0)], [1, 3])
  assert.equal(c.readAfter, 1, 'the next read starts below the gap')
  assert.deepEqual([...c.accept([3], 50)], [], '3 is not delivered twice while 2 is awaited')
  assert.deepEqual([...c.accept([2, 3, 4], 100)], [2, 4])
  assert.equal(c.readAfter, 4)
  assert.equal(c.pendingGaps, 0)
})

test('a gap that never fills (a rolled-back insert) is given up after the wait, on the clock passed in', () => {
  const c = new EventCursor(0, 5_000)
  c.accept([2], 1_000)
  assert.equal(c.readAfter, 0)
  c.accept([2], 5_999)
  assert.equal(c.pendingGaps, 1, 'still waiting at 4.999 s')
  c.accept([2], 6_001)
  assert.equal(c.pendingGaps, 0)
  assert.equal(c.readAfter, 2)
})

test('a jump of thousands of ids (pruned events, a reset table) is not taken for gaps', () => {
  const c = new EventCursor(5)
  assert.deepEqual([...c.accept([50_000], 0)], [50_000])
  assert.equal(c.pendingGaps, 0)
  assert.equal(c.readAfter, 50_000)
})

test('Galera: ids interleaved by node leave gaps that never fill; the newest is read above them, the gaps by id', { timeout: 5_000 }, () => {
  // auto_increment_increment=3: one node writes 1, 4, 7, 10 — 2, 3, 5, 6, 8, 9 are other nodes' and may never come.
  const c = new EventCursor(0, 5_000)
  assert.deepEqual([...c.accept([1, 4, 7, 10], 0)], [1, 4, 7, 10])
  assert.equal(c.newestSeen, 10, 'new rows are read above the newest, not from the oldest gap')
  assert.deepEqual(c.awaited(3), [2, 3, 5])
  assert.deepEqual([...c.accept([5, 13], 100)], [5, 13], 'a late row of another node is delivered once')
  assert.deepEqual(c.awaited(100), [2, 3, 6, 8, 9, 11, 12])
  c.accept([], 6_000)
  assert.equal(c.pendingGaps, 0, 'gaps are given up after the wait')
})
