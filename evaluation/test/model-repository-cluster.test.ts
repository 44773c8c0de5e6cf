import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { JobView, ModelView } from '@hivesight/protocol'
import type { PagePool } from '@hivesight/worker-runtime/page-pool'
import { makeTeachableModel } from '../../coordinator/test/support/teachable-model.ts'
import { throwawayDatabase } from '../src/cluster/throwaway-mariadb.ts'
import { startHeadlessWorkers, startLocalCoordinator, until, type LocalCoordinator } from '../src/harness/local-system.ts'
import { colourPicture, uploadModel, waitForState } from '../src/models/model-upload.ts'

// Two coordinators on one MariaDB: the model is uploaded to one, the only worker page sits on the other.
// The version's files, its smoke test, its label and the jobs all cross between them through the database.
let db: { url: string; drop: () => Promise<void> }
let upstairs: LocalCoordinator
let downstairs: LocalCoordinator
let pages: PagePool

before(async () => {
  db = await throwawayDatabase('hivesight_models')
  // Both start at once: each imports the built-in model, one of them wins, neither fails.
  ;[upstairs, downstairs] = await Promise.all([startLocalCoordinator({ DATABASE_URL: db.url }), startLocalCoordinator({ DATABASE_URL: db.url })])
  pages = await startHeadlessWorkers(downstairs.url, 1)
  await until(() => downstairs.registry.size === 1, 60_000, 'the worker page to join the second coordinator')
})

after(async () => {
  await pages?.stop()
  await upstairs?.close()
  await downstairs?.close()
  await db?.drop()
})

test('an upload to one coordinator is smoke-tested by a page on another, and jobs submitted to the first run there with its labels', { timeout: 180_000 }, async () => {
  const models = (await (await fetch(`${upstairs.url}/api/v1/models`)).json()) as { models: ModelView[] }
  assert.deepEqual(models.models.map((m) => [m.name, m.versions.length]), [['mobilenet_v2_1.0_224', 1]], 'the built-in model was imported once, not once per coordinator')
  const { files } = await makeTeachableModel({ labels: ['red', 'green', 'blue'] })
  const up = await uploadModel(upstairs.url, 'colours', files)
  assert.equal(up.status, 202, JSON.stringify(up.body))
  assert.equal(upstairs.registry.size, 0, 'no page on the coordinator that took the upload')
  const v1 = await waitForState(upstairs.url, 'colours', 1, 90_000)
  assert.equal(v1.state, 'ready', v1.failureReason ?? '')
  for (const [rgb, colour] of [[[220, 30, 30], 'red'], [[20, 40, 230], 'blue']] as const) {
    const form = new FormData()
    form.append('image', new Blob([new Uint8Array(await colourPicture([...rgb]))], { type: 'image/png' }), 'x.png')
    const res = await fetch(`${upstairs.url}/api/v1/classify?model=colours&timeout=60`, { method: 'POST', body: form })
    const job = (await res.json()) as JobView
    assert.equal(job.status, 'succeeded', JSON.stringify(job))
    assert.equal(job.result!.predictions[0]!.label, colour)
    assert.deepEqual(job.result!.model, { name: 'colours', version: 1 })
  }
  // The page fetched the version's files from the coordinator it is connected to: they came from the database.
  const colours = (await (await fetch(`${downstairs.url}/api/v1/models/colours`)).json()) as ModelView
  assert.equal(colours.versions[0]!.warmOn.length, 1, 'the second coordinator knows its page holds the version')
})
