import assert from 'node:assert/strict'
import { test } from 'node:test'
import { JobWaiters } from '../../src/jobs/job-waiters.ts'

test('a waiter is woken by notify, times out otherwise, and leaves nothing behind', async () => {
  const w = new JobWaiters()
  const woken = w.wait('a', 5_000)
  const timedOut = w.wait('b', 10)
  assert.equal(w.size, 2)
  w.notify('a')
  assert.equal(await woken, true)
  assert.equal(await timedOut, false)
  assert.equal(w.size, 0)
})

test('an aborted wait (client gone) resolves false and unregisters', async () => {
  const w = new JobWaiters()
  const ac = new AbortController()
  const p = w.wait('a', 5_000, ac.signal)
  ac.abort()
  assert.equal(await p, false)
  assert.equal(w.size, 0)
})
