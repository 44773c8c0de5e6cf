import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MODEL_INPUT_BYTES, MODEL_INPUT_CONTENT_TYPE } from '@hivesight/protocol'
import sharp from 'sharp'
import { DIALECTS } from '../support/databases.ts'
import { listeningApp, type ListeningApp } from '../support/listening-app.ts'
import { multipart } from '../support/test-app.ts'

const T = { timeout: 60_000 }

/** A 12 MP phone-sized JPEG (a gradient with a hard edge, so its content can be checked after the shrink). */
async function phonePhoto(seed: number): Promise<Buffer> {
  const [width, height] = [4000, 3000]
  const raw = Buffer.alloc(width * height * 3)
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const i = (y * width + x) * 3
    raw[i] = x < width / 2 ? 30 : 220
    raw[i + 1] = (y * 255) / height
    raw[i + 2] = seed
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 92 }).toBuffer()
}

async function submit(app: ListeningApp, images: Buffer[]): Promise<string[]> {
  const res = await app.app.inject({ method: 'POST', url: '/api/v1/jobs', ...multipart(images.map((data, i) => ({ name: `${i}.jpg`, type: 'image/jpeg', data }))) })
  assert.equal(res.statusCode, 202, res.body)
  return res.json().jobs.map((j: { id: string }) => j.id)
}

for (const dialect of DIALECTS) {
  test(`[${dialect}] a 12 MP photo reaches its page as its model input (shrunk, centre-cropped), whether sent from the upload or claimed from the queue`, T, async (t) => {
    const app = await listeningApp(t, { dialect })
    const w = await app.worker({ slots: 1 })
    const photos = await Promise.all([1, 2].map(phonePhoto))
    // The worker is idle: the first is leased in its upload's commit and sent from the upload's bytes.
    const [first] = await submit(app, [photos[0]!])
    const a = await w.assignment(0)
    assert.equal(a.job.jobId, first)
    // The slot is taken: the second waits in the queue and is claimed once the first is answered.
    const [second] = await submit(app, [photos[1]!])
    w.succeed(a, [5])
    const b = await w.assignment(1)
    assert.equal(b.job.jobId, second)
    for (const [got, photo, blue] of [[a, photos[0]!, 1], [b, photos[1]!, 2]] as const) {
      // The model input (224 × 224 RGB): the centre of the picture shrunk to 341 × 256, columns 58–281.
      const data = Buffer.from(got.image)
      assert.deepEqual([got.job.contentType, data.length], [MODEL_INPUT_CONTENT_TYPE, MODEL_INPUT_BYTES])
      assert.ok(data.length < photo.length, `${data.length} bytes sent for a ${photo.length}-byte upload`)
      // The left half dark, the right half light (the edge at column 170 of 341, 112 of the crop), and this photo's blue.
      const px = (x: number, y: number) => [...data.subarray((y * 224 + x) * 3, (y * 224 + x) * 3 + 3)]
      assert.ok(Math.abs(px(20, 112)[0]! - 30) <= 3 && Math.abs(px(200, 112)[0]! - 220) <= 3, `red ${px(20, 112)[0]} / ${px(200, 112)[0]}`)
      assert.ok(Math.abs(px(100, 112)[2]! - blue) <= 3, `blue ${px(100, 112)[2]}`)
    }
  })
}
