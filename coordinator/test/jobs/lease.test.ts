import assert from 'node:assert/strict'
import { test } from 'node:test'
import { FakeClock } from '../../src/jobs/clock.ts'
import { expiredHeld, failureOutcome, isCurrentLease, isUnresponsive, retryDelayMs, RETRY_CAP_MS, splitLostLeases } from '../../src/jobs/lease.ts'

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

test('an answer counts only from the current holder, quoting the current token, of a running job', () => {
  const facts = { id: 'j', status: 'running', lease_token: 3, worker_id: 'w1', attempts: 1, max_attempts: 5 }
  assert.equal(isCurrentLease(facts, { token: 3, workerId: 'w1' }), true)
  assert.equal(isCurrentLease(facts, { token: 2, workerId: 'w1' }), false, 'an older lease')
  assert.equal(isCurrentLease(facts, { token: 3, workerId: 'w2' }), false, 'another worker')
  assert.equal(isCurrentLease({ ...facts, status: 'succeeded' }, { token: 3, workerId: 'w1' }), false, 'a replay after the result')
  assert.equal(isCurrentLease(undefined, { token: 3, workerId: 'w1' }), false, 'a job that is gone')
})

test('a failure is final when it is the image\'s fault, retried while attempts last, dead after the last', () => {
  assert.equal(failureOutcome({ attempts: 1, max_attempts: 5 }, false), 'failed')
  assert.equal(failureOutcome({ attempts: 4, max_attempts: 5 }, true), 'retry')
  assert.equal(failureOutcome({ attempts: 5, max_attempts: 5 }, true), 'dead')
})

test('a lease lost without an answer is queued again, or dead when its attempts are used up', () => {
  const lost = [{ id: 'a', attempts: 1, max_attempts: 5 }, { id: 'b', attempts: 5, max_attempts: 5 }, { id: 'c', attempts: 4, max_attempts: 5 }]
  assert.deepEqual(splitLostLeases(lost), { requeue: ['a', 'c'], requeueUncounted: [], dead: ['b'] })
})

test('a volunteer\'s lost lease is queued again without using an attempt, even the last one', () => {
  const lost = [{ id: 'a', attempts: 5, max_attempts: 5, lease_untrusted: 1 }, { id: 'b', attempts: 2, max_attempts: 5, lease_untrusted: 0 }]
  assert.deepEqual(splitLostLeases(lost), { requeue: ['b'], requeueUncounted: ['a'], dead: [] })
})

test('held leases expire at their time on the clock that wrote them (a fake clock here)', () => {
  const clock = new FakeClock(10_000)
  const held = new Map([['a', { leaseExpiresAt: 12_000 }], ['b', { leaseExpiresAt: 15_000 }]])
  assert.deepEqual(expiredHeld(held, clock.now()), [])
  clock.advance(2_000)
  assert.deepEqual(expiredHeld(held, clock.now()), ['a'])
  clock.advance(3_000)
  assert.deepEqual(expiredHeld(held, clock.now()), ['a', 'b'])
})
