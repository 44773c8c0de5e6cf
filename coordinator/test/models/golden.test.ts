import assert from 'node:assert/strict'
import { test } from 'node:test'
import { contentOf, descriptorOf, versionId } from '../../src/models/model-identity.ts'
import { validateModelUpload } from '../../src/models/model-validator.ts'
import { tinyPng } from '../support/images.ts'
import { makeTeachableModel } from '../support/teachable-model.ts'

const limits = { maxModelBytes: 1e8, maxClasses: 100 }

test('golden images name a class and become the output index the smoke test expects; the page loads only the model\'s files', { timeout: 30_000 }, async () => {
  const { files } = await makeTeachableModel({ labels: ['red', 'green', 'blue'] })
  const v = validateModelUpload([...files, { name: 'golden-blue.png', bytes: tinyPng() }], limits)
  assert.ok(v.ok, JSON.stringify(!v.ok && v.problems))
  assert.deepEqual(v.model.golden.map((g) => [g.path, g.label, g.expected, g.contentType]), [['golden-blue.png', 'blue', 2, 'image/png']])
  const content = contentOf(v.model.format, v.model.manifest, v.model.modelJson, v.model.shards, v.model.golden)
  const d = descriptorOf(content, versionId(content), 'colours', 1)
  assert.deepEqual(d.files.map((f) => f.path), ['model.json', 'weights.bin'])
  assert.deepEqual(d.golden?.map((g) => [g.path, g.expected]), [['golden-blue.png', 2]])
  const without = contentOf(v.model.format, v.model.manifest, v.model.modelJson, v.model.shards)
  assert.notEqual(versionId(content), versionId(without), 'golden images are part of the version')
})

test('golden images are refused for a class the manifest lacks, a file that is not an image, or a name pages cannot fetch', { timeout: 30_000 }, async () => {
  const { files } = await makeTeachableModel({ labels: ['red', 'green', 'blue'] })
  const v = validateModelUpload([
    ...files,
    { name: 'golden-purple.png', bytes: tinyPng() },
    { name: 'golden-red.jpg', bytes: Buffer.from('not a picture at all') },
    { name: 'golden-big red.png', bytes: tinyPng() },
  ], limits)
  assert.ok(!v.ok)
  const golden = v.problems.filter((p) => p.rule === 'golden').map((p) => p.file).sort()
  assert.deepEqual(golden, ['golden-big red.png', 'golden-purple.png', 'golden-red.jpg'])
})
