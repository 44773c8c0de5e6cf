import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isUnresponsive, retryDelayMs, RETRY_CAP_MS } from '../../src/jobs/lease.ts'

test('retry delays double per attempt, with half of each delay random, and stay capped', () => {
  assert.equal(retryDelayMs(1, () => 0), 500)
  assert.equal(retryDelayMs(1, () => 1), 1_000)
  assert.equal(retryDelayMs(2, () => 1), 2_000)
  assert.equal(retryDelayMs(4, () => 0.5), 6_000)
  assert.equal(retryDelayMs(30, () => 1), RETRY_CAP_MS)
  assert.equal(retryDelayMs(30, () => 0), RETRY_CAP_MS / 2)
})

test('a worker is unresponsive after two unanswered pings in a row, not one', () => {
  assert.equal(isUnresponsive(0), false)
  assert.equal(isUnresponsive(1), false)
  assert.equal(isUnresponsive(2), true)
})
