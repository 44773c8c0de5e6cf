import assert from 'node:assert/strict'
import { test } from 'node:test'
import { contentOf } from '../../src/models/model-identity.ts'
import { validateModelUpload } from '../../src/models/model-validator.ts'
import { makeTeachableModel } from '../support/teachable-model.ts'
import { buildTestApp } from '../support/test-app.ts'

const ok = { ok: true, reason: null, loadMs: 1, inferMs: 1, worker: 'w' }

async function content(labels: string[]) {
  const { files } = await makeTeachableModel({ labels })
  const v = validateModelUpload(files, { maxModelBytes: 1e8, maxClasses: 100 })
  assert.ok(v.ok)
  return contentOf(v.model.format, v.model.manifest, v.model.modelJson, v.model.shards)
}

const labelsOf = async (app: Awaited<ReturnType<typeof buildTestApp>>, name: string) =>
  (await app.models.view(name)).labels.map((l) => `${l.label}→v${l.version}`).sort()

test('a model\'s first ready version is its default even when the upload asked for another label', { timeout: 60_000 }, async (t) => {
  const app = await buildTestApp(t)
  const v1 = await app.models.add('colours', await content(['red', 'green', 'blue']), { labelOnReady: 'stable' })
  await app.models.settle(v1.id, ok)
  assert.deepEqual(await labelsOf(app, 'colours'), ['default→v1', 'stable→v1'])
})

test('two first versions validating at once: the first to be ready is the default, the other never displaces it', { timeout: 60_000 }, async (t) => {
  const app = await buildTestApp(t)
  const v1 = await app.models.add('colours', await content(['red', 'green', 'blue']))
  const v2 = await app.models.add('colours', await content(['rot', 'grün', 'blau']))
  await app.models.settle(v2.id, ok)
  await app.models.settle(v1.id, ok)
  assert.deepEqual(await labelsOf(app, 'colours'), ['default→v2'])
})

test('a later version asked to take default at upload does take it once ready (an explicit promotion)', { timeout: 60_000 }, async (t) => {
  const app = await buildTestApp(t)
  const v1 = await app.models.add('colours', await content(['red', 'green', 'blue']))
  await app.models.settle(v1.id, ok)
  const v2 = await app.models.add('colours', await content(['rot', 'grün', 'blau']), { labelOnReady: 'default' })
  assert.deepEqual(await labelsOf(app, 'colours'), ['default→v1'], 'not before it is ready')
  await app.models.settle(v2.id, ok)
  assert.deepEqual(await labelsOf(app, 'colours'), ['default→v2'])
})
