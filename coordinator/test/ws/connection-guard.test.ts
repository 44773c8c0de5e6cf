import assert from 'node:assert/strict'
import { test } from 'node:test'
import { admitWorker, MessageBudget, originAllowed } from '../../src/ws/connection-guard.ts'

test('worker admission by token', () => {
  const keys = { mode: 'keys' as const, workerToken: 'w', joinToken: 'j' }
  assert.deepEqual(admitWorker(keys, 'w'), { ok: true, trusted: true })
  assert.deepEqual(admitWorker(keys, 'j'), { ok: true, trusted: false })
  assert.equal(admitWorker(keys, 'x').ok, false)
  assert.equal(admitWorker(keys, undefined).ok, false)
  assert.equal(admitWorker({ ...keys, workerToken: null, joinToken: null }, '').ok, false, 'no configured token matches an empty one')
  assert.deepEqual(admitWorker({ mode: 'open', workerToken: null, joinToken: null }, undefined), { ok: true, trusted: true })
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
