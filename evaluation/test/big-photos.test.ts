import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { REPO_ROOT } from '@hivesight/coordinator'
import { MODEL_INPUT_BYTES, type JobView, type Prediction } from '@hivesight/protocol'
import type { PagePool } from '@hivesight/worker-runtime/page-pool'
import { planShrink } from '@hivesight/coordinator/images/shrink-plan'
import sharp from 'sharp'
import { HivesightClient, mapLimit } from '../src/client/hivesight-client.ts'
import { readLabelledDataset, spreadSample, type LabelledImage } from '../src/dataset/labelled-dataset.ts'
import { startHeadlessWorkers, startLocalCoordinator, until, type LocalCoordinator } from '../src/harness/local-system.ts'

// Phone-sized photos through the real system (coordinator, headless Chromium, the real model): each dev
// image upscaled to 12 MP (4000 px on its longer side) as JPEG and WebP, and to 3.6 MP as PNG, against the image itself.
// The coordinator shrinks the big ones before dispatch; their answers must be those of the 12 MP JPEG's
// downscaled copy (500 px), wherever that answer is clear.
const DATASET = process.env.DATASET_DIR ?? resolve(REPO_ROOT, '../shared/datasets/imagenet-val-dev')
const T = { timeout: 240_000 }
const FORMATS = ['jpeg', 'png', 'webp'] as const

let system: LocalCoordinator
let workers: PagePool
let dir: string
let images: LabelledImage[]
const results = new Map<string, JobView>()

/** The dev image at 12 MP (PNG: 3.6 MP, near the 10 MiB upload limit already), aspect kept. */
async function phoneSized(path: string, format: (typeof FORMATS)[number]): Promise<Buffer> {
  const side = format === 'png' ? 2200 : 4000
  const img = sharp(path).rotate().resize({ width: side, height: side, fit: 'inside', kernel: 'lanczos3' })
  return format === 'jpeg' ? img.jpeg({ quality: 92 }).toBuffer() : format === 'png' ? img.png({ compressionLevel: 1 }).toBuffer() : img.webp({ quality: 92 }).toBuffer()
}

before(async () => {
  // Photos of at least 300 px a side, so the 12 MP copy is a real upscale of a real photo.
  images = spreadSample(readLabelledDataset(DATASET).filter((i) => i.path.includes('val-orig')), 8)
  dir = mkdtempSync(join(tmpdir(), 'hivesight-big-'))
  const files: { key: string; path: string }[] = []
  for (const [n, image] of images.entries()) {
    for (const format of FORMATS) {
      const path = join(dir, `${n}.${format}`)
      writeFileSync(path, await phoneSized(image.path, format))
      files.push({ key: `${n}:${format}`, path })
    }
    // The 12 MP JPEG's downscaled copy, at the size of an ordinary web photo.
    const small = join(dir, `${n}.small.jpg`)
    writeFileSync(small, await sharp(join(dir, `${n}.jpeg`)).resize({ width: 500, height: 500, fit: 'inside', kernel: 'lanczos3' }).jpeg({ quality: 92 }).toBuffer())
    files.push({ key: `${n}:small`, path: small })
  }
  system = await startLocalCoordinator()
  workers = await startHeadlessWorkers(system.url, 1)
  await until(() => system.registry.size === 1, 60_000, 'the headless worker page to connect')
  const client = new HivesightClient(system.url)
  await mapLimit(files, 4, async (f) => {
    const id = (await client.submitFiles([f.path])).jobs[0]!.id
    results.set(f.key, await client.waitFinished(id, 180_000))
  })
})

after(async () => {
  await workers?.stop()
  await system?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

test('a 12 MP photo (JPEG, WebP; PNG at 3.6 MP) classifies with the same top-1 as its downscaled copy', T, () => {
  const rows: string[] = []
  const differ: string[] = []
  let clear = 0
  for (const n of images.keys()) {
    const small = results.get(`${n}:small`)!
    assert.equal(small.status, 'succeeded', `${images[n]!.path}: ${small.error?.message ?? small.status}`)
    const [top1, second] = small.result!.predictions as [Prediction, Prediction]
    // Where the model hesitates between two classes (top-1 within 0.1 of the next), any resampling may tip it.
    const isClear = top1.score - second.score >= 0.1
    if (isClear) clear++
    for (const format of FORMATS) {
      const big = results.get(`${n}:${format}`)!
      assert.equal(big.status, 'succeeded', `${format} of ${images[n]!.path}: ${big.error?.message ?? big.status}`)
      const bigTop1 = big.result!.predictions[0]!
      rows.push(`${n} ${format}: ${bigTop1.label} ${bigTop1.score.toFixed(3)} (small: ${top1.label} ${top1.score.toFixed(3)}), decode ${big.result!.decodeMs?.toFixed(1)} ms (small ${small.result!.decodeMs?.toFixed(1)})`)
      if (isClear && (bigTop1.wnid !== top1.wnid || Math.abs(bigTop1.score - top1.score) >= 0.15)) differ.push(rows.at(-1)!)
    }
  }
  console.log(rows.map((r) => `# ${r}`).join('\n'))
  assert.deepEqual(differ, [])
  assert.ok(clear >= 4, `only ${clear} of ${images.length} photos had a clear answer`)
})

test('the big ones were made the model input on the coordinator (one shrink each), the small ones went out as they came; jobs show what was uploaded', T, async () => {
  const metrics = await (await fetch(`${system.url}/metrics`)).text()
  const shrunk = Number(/^hivesight_image_shrink_seconds_count (\d+)/m.exec(metrics)?.[1] ?? 'NaN')
  assert.equal(shrunk, images.length * FORMATS.length)
  // Each one stored as the 224 × 224 RGB model input, the pages' own crop.
  const out = Number(/^hivesight_image_shrink_bytes_total\{side="out"\} (\d+)/m.exec(metrics)?.[1] ?? 'NaN')
  assert.equal(out, shrunk * MODEL_INPUT_BYTES)
  for (const n of images.keys()) {
    for (const format of FORMATS) assert.equal(results.get(`${n}:${format}`)!.contentType, `image/${format}`)
  }
})

test('ordinary photos are not touched: the dev set\'s pictures the coordinator would shrink are under 0.5 %', T, async () => {
  const all = readLabelledDataset(DATASET)
  const sizes = await Promise.all(all.map((i) => sharp(i.path).metadata()))
  const shrunk = all.filter((_, n) => planShrink(sizes[n]!.width, sizes[n]!.height, 256) !== null)
  console.log(`# ${shrunk.length} of ${all.length} dev images would be shrunk: ${shrunk.map((i) => i.path.split('/').slice(-2).join('/')).join(', ')}`)
  assert.ok(shrunk.length / all.length < 0.005, `${shrunk.length} of ${all.length}`)
})
