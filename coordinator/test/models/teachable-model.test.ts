import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as tf from '@tensorflow/tfjs-core'
import * as tfl from '@tensorflow/tfjs-layers'
import { validateModelUpload } from '../../src/models/model-validator.ts'
import { makeTeachableModel } from '../support/teachable-model.ts'

const LIMITS = { maxModelBytes: 50_000_000, maxClasses: 100 }

/** A picture of one colour as TM feeds it: (v − 127) / 127 per channel. */
function solid(rgb: [number, number, number], size = 224): tf.Tensor4D {
  const data = new Float32Array(size * size * 3)
  for (let i = 0; i < data.length; i++) data[i] = (rgb[i % 3]! - 127) / 127
  return tf.tensor4d(data, [1, size, size, 3])
}

test('the fixture is a valid Teachable Machine upload', { timeout: 30_000 }, async () => {
  const { files, labels } = await makeTeachableModel()
  assert.deepEqual(files.map((f) => f.name), ['model.json', 'weights.bin', 'metadata.json'])
  const result = validateModelUpload(files, LIMITS)
  assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.problems))
  assert.equal(result.model.format, 'layers')
  assert.equal(result.model.manifestSource, 'metadata.json')
  assert.deepEqual(result.model.manifest.labels, labels.map((l) => ({ id: l, name: l })))
  assert.equal(result.model.manifest.softmax, false)
  assert.deepEqual(result.model.shards.map((s) => s.path), ['weights.bin'])
  // 3×3 kernel + 3 biases, float32.
  assert.equal(result.model.shards[0]!.bytes.length, (9 + 3) * 4)
})

test('the fixture is deterministic and honours labels and imageSize', { timeout: 30_000 }, async () => {
  const a = await makeTeachableModel({ labels: ['cat', 'dog'], imageSize: 96 })
  const b = await makeTeachableModel({ labels: ['cat', 'dog'], imageSize: 96 })
  assert.deepEqual(a.files, b.files)
  const result = validateModelUpload(a.files, LIMITS)
  assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.problems))
  assert.equal(result.model.manifest.preprocessing.inputSize, 96)
  assert.equal(result.model.manifest.outputs, 2)
})

test('loaded back with tfjs-layers, it answers the dominant colour', { timeout: 30_000 }, async () => {
  const { files, labels } = await makeTeachableModel()
  const file = (name: string) => files.find((f) => f.name === name)!.bytes
  const json = JSON.parse(file('model.json').toString()) as { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] }
  const weights = file('weights.bin')
  const model = await tfl.loadLayersModel(tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest[0]!.weights,
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
  }))
  const top1 = (rgb: [number, number, number]) => {
    const input = solid(rgb)
    const out = model.predict(input) as tf.Tensor
    const best = tf.argMax(out, -1)
    const index = best.dataSync()[0]!
    tf.dispose([input, out, best])
    return labels[index]
  }
  assert.equal(top1([255, 0, 0]), 'red')
  assert.equal(top1([200, 90, 60]), 'red')
  assert.equal(top1([30, 220, 40]), 'green')
  assert.equal(top1([20, 60, 250]), 'blue')
  model.dispose()
})
