import assert from 'node:assert/strict'
import { test } from 'node:test'
import { signSessionToken } from '@hivesight/protocol/session-token'
import { admitWorker, MessageBudget, originAllowed } from '../../src/ws/connection-guard.ts'

test('worker admission: session tokens in, secrets and strangers out', () => {
  const keys = { mode: 'keys' as const, workerToken: 'worker-secret', joinToken: 'join-secret' }
  const now = Date.now()
  const w = signSessionToken('worker-secret', { kind: 'worker', name: 'vm1-1', expires: 0 })
  const j = signSessionToken('join-secret', { kind: 'join', name: 'alice-1', expires: Math.floor(now / 1000) + 60 })
  assert.deepEqual(admitWorker(keys, w, now), { ok: true, trusted: true, session: w, name: 'vm1-1' })
  assert.deepEqual(admitWorker(keys, j, now), { ok: true, trusted: false, session: j, name: 'alice-1' })
  assert.equal(admitWorker(keys, 'worker-secret', now).ok, false, 'the secret itself never travels')
  assert.equal(admitWorker(keys, 'x', now).ok, false)
  assert.equal(admitWorker(keys, undefined, now).ok, false)
  assert.equal(admitWorker(keys, '', now).ok, false)
  assert.equal(admitWorker(keys, j, now + 61_000).ok, false, 'expired')
  assert.equal(admitWorker({ ...keys, workerToken: null, joinToken: null }, w, now).ok, false, 'nothing configured, nothing admitted')
  assert.deepEqual(admitWorker({ mode: 'open', workerToken: null, joinToken: null }, undefined, now), { ok: true, trusted: true })
})

test('origins: own host, listed ones, and non-browser clients', () => {
  assert.equal(originAllowed(undefined, 'h:8080', []), true)
  assert.equal(originAllowed('http://h:8080', 'h:8080', []), true)
  assert.equal(originAllowed('https://evil.example', 'h:8080', []), false)
  assert.equal(originAllowed('https://dash.example', 'h:8080', ['https://dash.example']), true)
  assert.equal(originAllowed('null', 'h:8080', []), false)
})

test('the message budget refills at its rate and caps bursts', () => {
  const b = new MessageBudget(10, 3, 0)
  assert.deepEqual([b.take(0), b.take(0), b.take(0), b.take(0)], [true, true, true, false])
  assert.equal(b.take(100), true, 'one more after 100 ms at 10/s')
  assert.equal(b.take(100), false)
})

test('the message budget at the worker socket\'s numbers: a 2 000 burst, 1 000/s after it, never more than the burst', () => {
  // Time is given explicitly: the flood test's outcome on the real clock depends on machine speed, this does not.
  const b = new MessageBudget(1_000, 2_000, 0)
  const taken = (n: number, now: number) => Array.from({ length: n }, () => b.take(now)).filter(Boolean).length
  assert.equal(taken(2_100, 0), 2_000, 'the burst, then refusals')
  assert.equal(taken(100, 50), 50, '50 ms at 1 000/s')
  assert.equal(taken(1, 50.5), 0, 'half a message is not one')
  assert.equal(taken(1, 51), 1, 'the halves add up')
  assert.equal(taken(3_000, 60_000), 2_000, 'a minute idle still allows only the burst')
  assert.equal(taken(1, 60_000), 0)
})
