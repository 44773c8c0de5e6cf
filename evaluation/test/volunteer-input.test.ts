import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { test } from 'node:test'
import { DEFAULT_MODEL_DIR, REPO_ROOT } from '@hivesight/coordinator'
import { modelInput } from '@hivesight/coordinator/images/model-input'
import { disguise } from '@hivesight/coordinator/trust/volunteer-dispatch'
import { readLabelledDataset, spreadSample } from '../src/dataset/labelled-dataset.ts'
import { NodeClassifier } from '../src/reference/node-classifier.ts'

// What a volunteer tab receives is the coordinator's model input (sharp decode, the pages' crop code, rounded
// to bytes), not the photo. Honest volunteers must reach the trusted workers' answer from it, or a quorum
// would disagree and a trusted worker's "contradiction" could quarantine an honest tab: compared here with
// the Node reference (sharp decode, tfjs-ops resize, float input), the same model on the tfjs wasm backend.
const DATASET = process.env.DATASET_DIR ?? resolve(REPO_ROOT, '../shared/datasets/imagenet-val-dev')
const N = 40

test(`the model input volunteers receive gives the reference's top-1 (${N} images); a disguised spot check too`, { timeout: 180_000 }, async (t) => {
  const classifier = await NodeClassifier.load(DEFAULT_MODEL_DIR)
  let same = 0
  let clear = 0
  let clearSame = 0
  let disguisedSame = 0
  for (const image of spreadSample(readLabelledDataset(DATASET), N)) {
    const bytes = readFileSync(image.path)
    const reference = await classifier.classify(bytes)
    const input = await modelInput(bytes, 'image/jpeg', 40_000_000)
    const asFloat = (b: Buffer) => Float32Array.from(b, (v) => v / 255)
    const volunteer = await classifier.classifyPrepared(asFloat(input))
    const margin = reference[0]!.score - (reference[1]?.score ?? 0)
    if (volunteer[0]!.index === reference[0]!.index) same++
    if (margin >= 0.2) {
      clear++
      if (volunteer[0]!.index === reference[0]!.index) clearSame++
      const checked = await classifier.classifyPrepared(asFloat(disguise(input, Math.random)))
      if (checked[0]!.index === volunteer[0]!.index) disguisedSame++
    }
  }
  t.diagnostic(`same top-1: ${same}/${N}; with a clear margin (≥ 0.2): ${clearSame}/${clear}; disguised checks unchanged: ${disguisedSame}/${clear}`)
  assert.equal(clearSame, clear, 'where the answer is clear, the volunteer\'s input gives the same top-1')
  assert.equal(disguisedSame, clear, 'a disguised known answer keeps its top-1')
  assert.ok(same >= N - 2, `same top-1 on ${same} of ${N}`)
})
