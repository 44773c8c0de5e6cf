import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { test } from 'node:test'
import { parseHivesightManifest } from '../../src/models/model-manifest.ts'
import { graphOpNames, LAYER_CLASSES } from '../../src/models/model-ops.ts'
import { manifestFromImageNetLabels, validateModelUpload, type UploadedModelFile } from '../../src/models/model-validator.ts'
import { makeTeachableModel } from '../support/teachable-model.ts'
import { editJson, editModel, expectProblem, MOBILENET_DIR, mobilenetUpload, put } from './model-upload-fixtures.ts'

// Valid uploads of both formats, the manifests, and the op lists; each rule's broken variant is in
// model-validator-rules.test.ts.

const LIMITS = { maxModelBytes: 50_000_000, maxClasses: 2000 }
const teachable = (await makeTeachableModel()).files

test('a Teachable Machine layers upload passes', { timeout: 30_000 }, () => {
  const r = validateModelUpload(teachable, LIMITS)
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.problems))
  const weights = teachable.find((f) => f.name === 'weights.bin')!.bytes
  const modelJson = teachable.find((f) => f.name === 'model.json')!.bytes
  assert.equal(r.model.format, 'layers')
  assert.equal(r.model.manifestSource, 'metadata.json')
  assert.equal(r.model.modelJson, modelJson)
  assert.deepEqual(r.model.shards, [{ path: 'weights.bin', bytes: weights }])
  assert.equal(r.model.totalBytes, modelJson.length + weights.length)
  assert.deepEqual(r.model.manifest, {
    labels: [{ id: 'red', name: 'red' }, { id: 'green', name: 'green' }, { id: 'blue', name: 'blue' }],
    labelOffset: 0,
    softmax: false,
    preprocessing: { inputSize: 224, channels: 3, resize: 'centre-crop-then-resize', mean: [127, 127, 127], std: [127, 127, 127] },
    outputs: 3,
  })
})

test('the MobileNet graph model from ../shared passes with a hivesight.json', { timeout: 30_000 }, () => {
  const files = mobilenetUpload()
  const r = validateModelUpload(files, LIMITS)
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.problems))
  assert.equal(r.model.format, 'graph')
  assert.equal(r.model.manifestSource, 'hivesight.json')
  assert.equal(r.model.modelJson, files.find((f) => f.name === 'model.json')!.bytes)
  assert.deepEqual(r.model.shards.map((s) => s.path), [1, 2, 3, 4].map((i) => `group1-shard${i}of4.bin`))
  assert.equal(r.model.totalBytes, 56_897 + 13_956_412)
  const builtIn = manifestFromImageNetLabels(JSON.parse(readFileSync(resolve(MOBILENET_DIR, 'labels.json'), 'utf8')))
  // The uploaded manifest (range [0, 1], defaults) describes the model exactly as the built-in import does.
  assert.deepEqual(r.model.manifest, builtIn)
})

test('manifestFromImageNetLabels reads the shared labels.json', { timeout: 30_000 }, () => {
  const labelsJson: unknown = JSON.parse(readFileSync(resolve(MOBILENET_DIR, 'labels.json'), 'utf8'))
  const m = manifestFromImageNetLabels(labelsJson)
  assert.equal(m.labels.length, 1000)
  assert.deepEqual(m.labels[0], { id: 'n01440764', name: 'tench, Tinca tinca' })
  assert.deepEqual(m.labels[999], { id: 'n15075141', name: 'toilet tissue, toilet paper, bathroom tissue' })
  assert.equal(m.labelOffset, 1)
  assert.equal(m.outputs, 1001)
  assert.equal(m.softmax, true)
  assert.deepEqual(m.preprocessing, { inputSize: 224, channels: 3, resize: 'shorter-side-then-centre-crop', resizeShorterTo: 256, mean: [0, 0, 0], std: [255, 255, 255] })
  assert.throws(() => manifestFromImageNetLabels([{ index: 0, wnid: null, name: 'background' }]), /1001/)
})

test('hivesight.json defaults, range and mean/std', { timeout: 30_000 }, () => {
  const parse = (v: unknown) => {
    const r = parseHivesightManifest(v)
    assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.problems))
    return r.manifest
  }
  assert.deepEqual(parse({ labels: ['a', 'b'], input: { size: 160 } }), {
    labels: [{ id: 'a', name: 'a' }, { id: 'b', name: 'b' }],
    labelOffset: 0,
    softmax: true,
    preprocessing: { inputSize: 160, channels: 3, resize: 'shorter-side-then-centre-crop', resizeShorterTo: 183, mean: [0, 0, 0], std: [255, 255, 255] },
    outputs: 2,
  })
  const tm = parse({ labels: [{ name: 'x' }, { id: 'y2', name: 'y' }], softmax: false, input: { size: 96, channels: 1, resize: 'stretch', range: [-1, 1] } })
  assert.deepEqual(tm.labels, [{ id: 'x', name: 'x' }, { id: 'y2', name: 'y' }])
  assert.deepEqual(tm.preprocessing, { inputSize: 96, channels: 1, resize: 'stretch', mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5] })
  const explicit = parse({ labels: ['a'], labelOffset: 2, input: { size: 224, resizeShorterTo: 300, mean: [124, 117, 104], std: [58, 57, 57] } })
  assert.deepEqual(explicit.preprocessing.mean, [124, 117, 104])
  assert.equal(explicit.preprocessing.resizeShorterTo, 300)
  assert.equal(explicit.outputs, 3)
  // ImageNet repeats names ("crane"): only ids must be unique.
  assert.ok(parseHivesightManifest({ labels: [{ id: 'n1', name: 'crane' }, { id: 'n2', name: 'crane' }], input: { size: 224 } }).ok)
})

test('with both manifests, hivesight.json wins and metadata.json is not stored', { timeout: 30_000 }, () => {
  const files = put(teachable, 'hivesight.json', Buffer.from(JSON.stringify({ labels: ['r', 'g', 'b'], softmax: false, input: { size: 224, resize: 'stretch', range: [-1, 1] } })))
  const r = validateModelUpload(files, LIMITS)
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.problems))
  assert.equal(r.model.manifestSource, 'hivesight.json')
  assert.deepEqual(r.model.manifest.labels.map((l) => l.id), ['r', 'g', 'b'])
})

test('a graph model.json without format is recognised by its nodes', { timeout: 30_000 }, () => {
  const files = editModel(mobilenetUpload(), (m) => { delete m.format })
  const r = validateModelUpload(files, LIMITS)
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.problems))
  assert.equal(r.model.format, 'graph')
})

test('quantized weights count 1 or 2 bytes per element', { timeout: 30_000 }, () => {
  const weights = teachable.find((f) => f.name === 'weights.bin')!.bytes
  const quantized = (dtype: string, bytes: number) => put(editModel(teachable, (m) => {
    for (const w of m.weightsManifest[0]!.weights) w.quantization = { dtype }
  }), 'weights.bin', weights.subarray(0, 12 * bytes))
  assert.ok(validateModelUpload(quantized('uint8', 1), LIMITS).ok)
  assert.ok(validateModelUpload(quantized('uint16', 2), LIMITS).ok)
  assert.ok(validateModelUpload(quantized('float16', 2), LIMITS).ok)
  expectProblem(validateModelUpload(quantized('uint8', 2), LIMITS), 'shard-size', 'weights.bin')
})

test('a weight shard may start with "<" but not with a tag', { timeout: 30_000 }, () => {
  const weights = Buffer.from(teachable.find((f) => f.name === 'weights.bin')!.bytes)
  weights[0] = 0x3c
  weights[1] = 0x00
  assert.ok(validateModelUpload(put(teachable, 'weights.bin', weights), LIMITS).ok)
  const html = Buffer.alloc(weights.length, 0x20)
  html.write('<html><script>alert(1)</script>')
  expectProblem(validateModelUpload(put(teachable, 'weights.bin', html), LIMITS), 'code', 'weights.bin')
})

test('every problem is reported, not only the first', { timeout: 30_000 }, () => {
  let files: UploadedModelFile[] = editJson(teachable, 'metadata.json', (m) => { m.labels = ['a', 'a', ''] })
  files = put(files, 'readme.txt', Buffer.from('hello'))
  files = put(files, 'weights.bin', Buffer.alloc(3))
  const r = validateModelUpload(files, { maxModelBytes: 10, maxClasses: 10 })
  assert.ok(!r.ok)
  const rules = new Set(r.problems.map((p) => p.rule))
  for (const rule of ['manifest', 'unexpected-file', 'shard-size', 'too-large'] as const) assert.ok(rules.has(rule), `${rule} in ${JSON.stringify(r.problems)}`)
  for (const p of r.problems) assert.match(p.message, /^\S.*\.$/, 'a sentence')
})

test('the graph op list is read from tfjs-converter', { timeout: 30_000 }, () => {
  const ops = graphOpNames()
  assert.ok(ops.size > 200, `${ops.size} ops`)
  for (const op of ['Placeholder', 'Const', 'NoOp', 'Identity', 'Conv2D', '_FusedConv2D', 'FusedDepthwiseConv2dNative', 'AddV2', 'Mean', 'Reshape', 'Softmax']) assert.ok(ops.has(op), op)
  assert.ok(!ops.has('PyFunc'))
})

test('the curated layer list is what tfjs-layers registers', { timeout: 30_000 }, async () => {
  const tfl = await import('@tensorflow/tfjs-layers')
  const { serialization } = await import('@tensorflow/tfjs-core')
  const registered = Object.entries(serialization.SerializationMap.getMap().classNameMap)
    .filter(([, [ctor]]) => ctor.prototype instanceof tfl.layers.Layer)
    .map(([name]) => name)
  assert.deepEqual([...LAYER_CLASSES].sort(), registered.sort())
})
