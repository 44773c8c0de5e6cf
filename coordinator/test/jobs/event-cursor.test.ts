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
