import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { test } from 'node:test'
import { REPO_ROOT } from '@hivesight/coordinator'
import { cropResize, planCrop, resizedSize } from '@hivesight/worker-runtime/crop-resize'
import sharp from 'sharp'
import { modelSized } from '../src/client/model-sized.ts'
import { readLabelledDataset, spreadSample } from '../src/dataset/labelled-dataset.ts'

const DATASET = process.env.DATASET_DIR ?? resolve(REPO_ROOT, '../shared/datasets/imagenet-val-dev')

/** What a page feeds the model for these bytes (decoded, crop window, the pages' crop-resize). */
async function pageInput(bytes: Buffer): Promise<Float32Array> {
  const { data, info } = await sharp(bytes).rotate().ensureAlpha().raw().toBuffer({ resolveWithObject: true })
  const plan = planCrop(info.width, info.height)
  const { x, y, width, height } = plan.window
  const rgba = new Uint8Array(width * height * 4)
  for (let row = 0; row < height; row++) rgba.set(data.subarray(((y + row) * info.width + x) * 4, ((y + row) * info.width + x + width) * 4), row * width * 4)
  return cropResize(rgba, plan)
}
const meanAbs = (a: Float32Array, b: Float32Array) => (255 * a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0)) / a.length

test('a model-sized photo gives the pages the model input the photo gives, but for JPEG noise, in half the bytes', { timeout: 60_000 }, async () => {
  const photos = spreadSample(readLabelledDataset(DATASET).filter((i) => i.subset === 'val-orig'), 6)
  for (const p of photos) {
    const photo = readFileSync(p.path)
    const small = await modelSized(photo)
    const meta = await sharp(small).metadata()
    assert.equal(Math.min(meta.width!, meta.height!), 256, `${p.file}: shorter side 256`)
    assert.deepEqual(resizedSize(meta.width!, meta.height!), { width: meta.width, height: meta.height }, `${p.file}: the page resizes it by exactly 1`)
    assert.ok(small.length < photo.length * 0.7, `${p.file}: ${small.length} bytes against ${photo.length}`)
    const want = await pageInput(photo)
    const ours = meanAbs(want, await pageInput(small))
    // A library resize (it antialiases) is what this replaced: on these photos it is off by 4–5 levels.
    const library = meanAbs(want, await pageInput(await sharp(photo).rotate().resize(256, 256, { fit: 'outside', kernel: 'linear' }).jpeg({ quality: 95 }).toBuffer()))
    assert.ok(ours < 2.5, `${p.file}: mean difference ${ours.toFixed(2)} of 255`)
    assert.ok(ours < library, `${p.file}: ${ours.toFixed(2)} against a library resize's ${library.toFixed(2)}`)
  }
})
