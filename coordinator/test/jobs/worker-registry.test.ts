import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { WorkerHello } from '@hivesight/protocol'
import { WorkerRegistry } from '../../src/workers/worker-registry.ts'

const channel = { sendFrame: () => true, sendMessage: () => true, close: () => undefined }
const hello = { type: 'worker.hello', protocol: 1, kind: 'headless', slots: 2, backend: 'wasm', threads: 1, simd: true } as unknown as WorkerHello
const held = { token: 1, leaseExpiresAt: 0, submittedAt: 0 }
const trust = { trusted: true, identity: 'a', network: null }

test('free slots are tracked as jobs are held and released; draining and gone workers offer none', () => {
  const r = new WorkerRegistry()
  r.add({ id: 'a', hello, trust: { trusted: true, identity: 'a', network: null }, slots: 2, draining: false, channel })
  r.add({ id: 'b', hello, trust: { trusted: true, identity: 'b', network: null }, slots: 1, draining: false, channel })
  assert.deepEqual(r.freeSlots().map(({ workerId, free }) => ({ workerId, free })), [{ workerId: 'a', free: 2 }, { workerId: 'b', free: 1 }])
  assert.equal(r.hold('a', 'j1', held), true)
  assert.equal(r.hold('a', 'j1', held), false, 'the same job twice')
  assert.equal(r.hold('b', 'j2', held), true)
  assert.deepEqual(r.freeSlots().map(({ workerId, free }) => ({ workerId, free })), [{ workerId: 'a', free: 1 }])
  assert.equal(r.inFlight, 2)
  assert.deepEqual(r.release('b', 'j2'), held)
  assert.equal(r.release('b', 'j2'), undefined, 'released once')
  r.setDraining('a')
  assert.deepEqual(r.freeSlots().map(({ workerId, free }) => ({ workerId, free })), [{ workerId: 'b', free: 1 }])
  r.remove('b')
  assert.deepEqual(r.freeSlots(), [])
  assert.equal(r.inFlight, 1)
})

test('jobs done are counted per worker and handed over once', () => {
  const r = new WorkerRegistry()
  r.add({ id: 'a', hello, trust: { trusted: true, identity: 'a', network: null }, slots: 2, draining: false, channel })
  r.countJobDone('a')
  r.countJobDone('a')
  r.countJobDone('gone')
  assert.deepEqual([...r.takeJobsDone()], [['a', 2]])
  assert.deepEqual([...r.takeJobsDone()], [])
})

test('a worker\'s loaded model versions come with its free slots, and who holds a version is known', () => {
  const r = new WorkerRegistry()
  r.add({ id: 'a', hello, trust, slots: 2, draining: false, channel })
  r.add({ id: 'b', hello, trust, slots: 2, draining: false, channel })
  r.setModels('a', ['v1', 'v2'])
  r.setModels('b', ['v1'])
  assert.deepEqual(r.freeSlots().map((f) => [f.workerId, [...(f.warm ?? [])]]), [['a', ['v1', 'v2']], ['b', ['v1']]])
  assert.deepEqual(r.holding('v2').map((w) => w.id), ['a'])
  r.setModels('a', ['v1'])
  assert.deepEqual(r.holding('v2'), [])
})
