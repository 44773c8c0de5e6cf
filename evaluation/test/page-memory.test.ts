import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { REPO_ROOT } from '@hivesight/coordinator'
import { findChromium } from '@hivesight/worker-runtime/chromium-path'
import { CHROMIUM_ARGS } from '@hivesight/worker-runtime/page-pool'
import { chromium, type Browser } from 'playwright-core'
import { classify, mobilenetUpload } from '../src/bench/model-passes.ts'
import { chromiumPss } from '../src/bench/pss.ts'
import { readLabelledDataset, spreadSample } from '../src/dataset/labelled-dataset.ts'
import { startLocalCoordinator, until, type LocalCoordinator } from '../src/harness/local-system.ts'
import { uploadModel, waitForState } from '../src/models/model-upload.ts'

// A page that may keep one model, given jobs of two MobileNet-sized models in turn: every switch evicts
// one, and a wasm heap never shrinks, so past its limit the page replaces its inference worker. Nothing
// fails meanwhile, and the page's memory (its renderer's PSS) stays bounded instead of growing with each switch.
const DATASET = process.env.DATASET_DIR ?? resolve(REPO_ROOT, '../shared/datasets/imagenet-val-dev')

let system: LocalCoordinator
let browser: Browser
const restarts: string[] = []

before(async () => {
  system = await startLocalCoordinator()
  const up = await uploadModel(system.url, 'mobilenet-b', mobilenetUpload(system.modelDir).files)
  assert.equal(up.status, 202, JSON.stringify(up.body))
  browser = await chromium.launch({ executablePath: findChromium(), headless: true, args: CHROMIUM_ARGS, timeout: 60_000 })
  const page = await browser.newPage()
  page.on('console', (m) => {
    if (m.text().includes('starting a fresh one')) restarts.push(m.text())
  })
  // One model at a time, and a heap limit (1 MiB) that every eviction passes.
  await page.goto(`${system.url}/worker?kind=headless&name=memory&models=1&heapMb=1&slots=1`)
  await until(() => system.registry.size === 1, 60_000, 'the page to join')
  assert.equal((await waitForState(system.url, 'mobilenet-b', 1, 90_000)).state, 'ready')
})

after(async () => {
  await browser?.close()
  await system?.close()
})

test('two models in turn on a one-model page: every job answered by its own model, the inference worker replaced when its heap stays high, memory bounded', { timeout: 240_000 }, async () => {
  const photos = spreadSample(readLabelledDataset(DATASET), 4)
  const pss: number[] = []
  for (let round = 0; round < 8; round++) {
    for (const [i, p] of photos.entries()) {
      const model = i % 2 === 0 ? undefined : 'mobilenet-b'
      const job = await classify(system.url, await readFile(p.path), model)
      assert.equal(job.status, 'succeeded', JSON.stringify(job.error))
      assert.equal(job.result!.model.name, model ?? 'mobilenet_v2_1.0_224')
      assert.match(job.result!.predictions[0]!.label, model ? /^b: / : /^(?!b: )/)
    }
    // A replaced worker's memory goes back to the system a moment after it is terminated (later still on a
    // busy machine): the round's figure is the lowest of a few samples over 2 s, what the page settles at.
    const samples: number[] = []
    for (let k = 0; k < 5; k++) {
      samples.push(Math.max(...chromiumPss(process.pid).rendererMiB))
      await new Promise((r) => setTimeout(r, 400))
    }
    pss.push(Math.min(...samples))
  }
  console.log(`# ${restarts.length} inference-worker restarts; the page's renderer PSS per round (MiB): ${pss.map((m) => m.toFixed(0)).join(' → ')}`)
  assert.ok(restarts.length >= 4, `the page replaced its inference worker ${restarts.length} times`)
  // Measured here, settled as above: 85–290 MiB a round with the restarts (the renderer keeps one freed heap
  // at times: ~270), 450–490 MiB for the same page without them (heapMb=100000). Unsettled samples under a
  // busy CI reached a median of 431, hence the settling and a bound between the two.
  const median = [...pss].sort((a, b) => a - b)[Math.floor(pss.length / 2)]!
  assert.ok(median < 400, `the page's renderer held a median of ${median.toFixed(0)} MiB`)
})
