import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { REPO_ROOT } from '@hivesight/coordinator'
import type { JobView } from '@hivesight/protocol'
import type { PagePool } from '@hivesight/worker-runtime/page-pool'
import { HivesightClient, mapLimit } from '../src/client/hivesight-client.ts'
import { readLabelledDataset, spreadSample, type LabelledImage } from '../src/dataset/labelled-dataset.ts'
import { startHeadlessWorkers, startLocalCoordinator, until, type LocalCoordinator } from '../src/harness/local-system.ts'
import { NodeClassifier } from '../src/reference/node-classifier.ts'

// Real parts end to end: coordinator + embedded database + headless Chromium + the real model on real
// ImageNet validation images. Nothing here is mocked.
const DATASET = process.env.DATASET_DIR ?? resolve(REPO_ROOT, '../shared/datasets/imagenet-val-dev')
const N_IMAGES = 24

let system: LocalCoordinator
let workers: PagePool
let images: LabelledImage[]
let jobs: JobView[]

before(async () => {
  assert.ok(existsSync(DATASET), `the development images are expected at ${DATASET} (set DATASET_DIR)`)
  images = spreadSample(readLabelledDataset(DATASET), N_IMAGES)
  system = await startLocalCoordinator()
  workers = await startHeadlessWorkers(system.url, 1)
  await until(() => system.registry.size === 1, 60_000, 'the headless worker page to connect')
  const client = new HivesightClient(system.url)
  // One multi-image upload and single-image ones, as users send them.
  const batch = await client.submitFiles(images.slice(0, 8).map((i) => i.path))
  const singles = await mapLimit(images.slice(8), 4, (i) => client.submitFiles([i.path]))
  const ids = [...batch.jobs, ...singles.flatMap((s) => s.jobs)].map((j) => j.id)
  jobs = await mapLimit(ids, 8, (id) => client.waitFinished(id, 120_000))
})

after(async () => {
  await workers?.stop()
  await system?.close()
})

test('every uploaded image is classified by the headless worker', () => {
  const notDone = jobs.filter((j) => j.status !== 'succeeded').map((j) => `${j.filename}: ${j.status} ${j.error?.message ?? ''}`)
  assert.deepEqual(notDone, [])
  for (const j of jobs) {
    assert.equal(j.result?.predictions.length, 5)
    assert.equal(j.attempts, 1)
    assert.ok(j.workerId)
    const scores = j.result!.predictions.map((p) => p.score)
    assert.deepEqual(scores, [...scores].sort((a, b) => b - a), 'predictions are ranked by score')
  }
})

test('top-1 agrees with the ImageNet label for at least 60 % of the images', () => {
  const hits = jobs.filter((j, i) => j.result?.predictions[0]?.wnid === images[i]!.wnid).length
  console.log(`# e2e top-1: ${hits}/${jobs.length} = ${((100 * hits) / jobs.length).toFixed(1)} %`)
  assert.ok(hits / jobs.length >= 0.6, `top-1 accuracy ${hits}/${jobs.length} is below 60 %`)
})

test('the browser gives the same top-1 as the same model and preprocessing in Node on at least 95 % of the images', async () => {
  const reference = await NodeClassifier.load(system.model.dir)
  let same = 0
  const differ: string[] = []
  for (const [i, job] of jobs.entries()) {
    const top = await reference.classify(await readFile(images[i]!.path))
    const expected = system.model.toPredictions(top)[0]!
    if (job.result?.predictions[0]?.wnid === expected.wnid) {
      same++
      // Same pixels, same ops, same backend: the scores should agree closely too.
      assert.ok(Math.abs(job.result.predictions[0].score - expected.score) < 0.05, `${images[i]!.file}: score ${job.result.predictions[0].score} vs ${expected.score}`)
    } else differ.push(`${images[i]!.file}: browser ${job.result?.predictions[0]?.wnid} node ${expected.wnid}`)
  }
  console.log(`# e2e browser/node top-1 agreement: ${same}/${jobs.length}${differ.length ? `; differ: ${differ.join('; ')}` : ''}`)
  assert.ok(same / jobs.length >= 0.95, `only ${same}/${jobs.length} agree: ${differ.join('; ')}`)
})
