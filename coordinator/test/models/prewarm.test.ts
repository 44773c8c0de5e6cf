import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FromCoordinator, WorkerHello } from '@hivesight/protocol'
import type { ModelRepository } from '../../src/models/model-repository.ts'
import { Prewarm } from '../../src/models/prewarm.ts'
import { WorkerRegistry } from '../../src/workers/worker-registry.ts'

const hello = { type: 'worker.hello', protocol: 1, kind: 'headless', slots: 2, backend: 'wasm', threads: 1, simd: true } as unknown as WorkerHello

test('a labelled version is loaded ahead on every trusted page that lacks it, once per page', { timeout: 10_000 }, () => {
  const registry = new WorkerRegistry()
  const sent = new Map<string, FromCoordinator[]>()
  for (const [id, trusted] of [['a', true], ['b', true], ['tab', false]] as const) {
    sent.set(id, [])
    registry.add({ id, hello, trust: { trusted, identity: id, network: null }, slots: 2, draining: false, channel: { sendFrame: () => true, sendMessage: (m) => (sent.get(id)!.push(m), true), close: () => undefined } })
  }
  registry.setModels('a', [])
  registry.setModels('b', ['v2'])
  const models = { labelledReady: () => ['v1', 'v2'] } as unknown as ModelRepository
  const prewarm = new Prewarm(models, registry)
  assert.equal(prewarm.run(), 3)
  assert.deepEqual(sent.get('a')!.map((m) => m.type === 'model.check' && m.model), ['v1', 'v2'])
  assert.deepEqual(sent.get('b')!.map((m) => m.type === 'model.check' && m.model), ['v1'], 'what a page holds is not asked again')
  assert.deepEqual(sent.get('tab'), [], 'volunteer tabs are not asked to load anything')
  assert.equal(prewarm.run(), 0, 'asked once')
  // A page that leaves is forgotten: one that joins under the same id (ids are per connection) is asked again.
  registry.remove('a')
  assert.equal(prewarm.run(), 0)
  registry.add({ id: 'a', hello, trust: { trusted: true, identity: 'a', network: null }, slots: 2, draining: false, channel: { sendFrame: () => true, sendMessage: (m) => (sent.get('a')!.push(m), true), close: () => undefined } })
  registry.setModels('a', [])
  assert.equal(prewarm.run(), 2)
})
