import assert from 'node:assert/strict'
import { test } from 'node:test'
import sharp from 'sharp'
import { inspectImage } from '../../src/images/image-inspector.ts'
import { ImageShrinker } from '../../src/images/image-shrinker.ts'
import { modelInput } from '../../src/images/model-input.ts'
import { MODEL_INPUT_CONTENT_TYPE, type Preprocessing } from '@hivesight/protocol'
import { neededShorterSide, planShrink } from '../../src/images/shrink-plan.ts'

const T = { timeout: 30_000 }
const MOBILENET: Preprocessing = { inputSize: 224, channels: 3 as const, resize: 'shorter-side-then-centre-crop' as const, resizeShorterTo: 256, mean: [0, 0, 0], std: [255, 255, 255] }

test('ordinary photos are left alone; far bigger ones are shrunk to what the model reads', T, () => {
  assert.equal(neededShorterSide(MOBILENET), 256)
  assert.equal(neededShorterSide({ ...MOBILENET, resize: 'centre-crop-then-resize', resizeShorterTo: undefined }), 224)
  assert.equal(planShrink(500, 375, 256), null, 'an ImageNet validation photo')
  assert.equal(planShrink(1600, 1024, 256), 256, 'shorter side at 4× what the model reads')
  assert.equal(planShrink(1600, 1023, 256), null, 'just under, and under 4 MP')
  assert.equal(planShrink(4000, 3000, 256), 256, 'a 12 MP phone photo')
  assert.equal(planShrink(3000, 4000, 256), 256, 'portrait')
  assert.equal(planShrink(8000, 900, 256), 256, 'a 7 MP panorama: over 4 MP, and it can be made smaller')
  assert.equal(planShrink(12_000, 250, 256), null, 'a strip already at the size the model needs')
  assert.equal(planShrink(2000, 2000, 256, { keep: 2, over: 4, maxPixels: 4_000_000 }), 512, 'another rule')
})

async function picture(width: number, height: number, opts: { alpha?: boolean; orientation?: number } = {}): Promise<Buffer> {
  const channels = opts.alpha ? 4 : 3
  const raw = Buffer.alloc(width * height * channels)
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const i = (y * width + x) * channels
    raw[i] = (x * 255) / width
    raw[i + 1] = (y * 255) / height
    raw[i + 2] = x < width / 2 ? 40 : 200
    if (opts.alpha) raw[i + 3] = 128
  }
  const img = sharp(raw, { raw: { width, height, channels } })
  if (opts.alpha) return img.png().toBuffer()
  return (opts.orientation ? img.withMetadata({ orientation: opts.orientation }) : img).jpeg({ quality: 90 }).toBuffer()
}

// 'mobilenet' takes the pages' 224 × 224 RGB model input; 'wide' reads 192 × 192, so its pictures stay pictures.
const VERSIONS: Record<string, Preprocessing> = {
  mobilenet: MOBILENET,
  'mobilenet-shadow': { ...MOBILENET, mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5] },
  wide: { ...MOBILENET, inputSize: 192, resizeShorterTo: 256 },
}
const shrinker = new ImageShrinker((id) => VERSIONS[id], { maxPixels: 40_000_000 })

test('a 12 MP JPEG for MobileNet is stored as its model input: the pages\' crop of the Lanczos-shrunk picture, EXIF orientation applied', T, async () => {
  const big = await picture(4000, 3000, { orientation: 6 })
  const out = await shrinker.prepare(big, inspectImage(big), ['mobilenet', 'mobilenet-shadow'])
  assert.equal(out.contentType, MODEL_INPUT_CONTENT_TYPE, 'versions that differ only in mean and std share the input')
  assert.equal(out.image.length, 224 * 224 * 3)
  // The same crop by hand: libvips to a shorter side of 256 (256 × 341 once turned), then the centre 224 × 224.
  const turned = await sharp(big).rotate().resize({ width: 256, height: 256, fit: 'outside' }).removeAlpha().raw().toBuffer({ resolveWithObject: true })
  assert.deepEqual([turned.info.width, turned.info.height], [256, 341])
  const [x0, y0] = [16, Math.floor((341 - 224) / 2)]
  let worst = 0
  for (let y = 0; y < 224; y++) for (let x = 0; x < 224; x++) for (let c = 0; c < 3; c++) {
    worst = Math.max(worst, Math.abs(out.image[(y * 224 + x) * 3 + c]! - turned.data[((y0 + y) * 256 + x0 + x) * 3 + c]!))
  }
  assert.equal(worst, 0, 'at exactly the shorter side the resize reads, the crop is a copy')
  // Turned a quarter clockwise: the red ramp (rising left to right before) now rises top to bottom.
  assert.ok(out.image[(223 * 224) * 3]! > out.image[0]! + 100, `red at the top ${out.image[0]}, at the bottom ${out.image[(223 * 224) * 3]}`)
})

test('a 12 MP JPEG for a version reading another input goes out as a JPEG of 341 × 256 with its EXIF orientation applied', T, async () => {
  const big = await picture(4000, 3000, { orientation: 6 })
  const out = await shrinker.prepare(big, inspectImage(big), ['wide'])
  assert.equal((await shrinker.prepare(big, inspectImage(big), ['mobilenet', 'wide'])).contentType, 'image/jpeg', 'two inputs: one picture for both')
  assert.equal(out.contentType, 'image/jpeg')
  const meta = await sharp(out.image).metadata()
  // Orientation 6 turns a landscape picture into a portrait one; the result needs no turning.
  assert.deepEqual([meta.width, meta.height, meta.orientation], [256, 341, undefined])
  assert.ok(out.image.length < big.length / 4, `${out.image.length} bytes from ${big.length}`)
})

test('a PNG with alpha stays a PNG with alpha; a small photo, a GIF, garbage and unknown versions go out as they came', T, async () => {
  const png = await picture(2400, 2000, { alpha: true })
  const out = await shrinker.prepare(png, inspectImage(png), ['wide'])
  const meta = await sharp(out.image).metadata()
  assert.deepEqual([out.contentType, meta.width, meta.height, meta.hasAlpha], ['image/png', 307, 256, true])
  const small = await picture(500, 375)
  assert.equal((await shrinker.prepare(small, inspectImage(small), ['mobilenet'])).image, small)
  assert.equal((await shrinker.prepare(png, inspectImage(png), ['unknown'])).image, png)
  const gif = await sharp(await picture(2400, 2000)).gif().toBuffer()
  assert.equal((await shrinker.prepare(gif, inspectImage(gif), ['mobilenet'])).image, gif)
  // A valid header over a cut-off body: the page will say it cannot decode it, as it always did.
  const cut = (await picture(4000, 3000)).subarray(0, 2000)
  assert.equal((await shrinker.prepare(cut, inspectImage(cut), ['mobilenet'])).image, cut)
})

test('the shrunk picture gives the model nearly the input the full one gives (mean pixel difference of its 256-side resize)', T, async () => {
  const big = await picture(4000, 3000)
  const out = await shrinker.prepare(big, inspectImage(big), ['wide'])
  const at256 = async (b: Buffer) => (await sharp(b).resize(340, 256, { fit: 'fill' }).raw().toBuffer())
  const [a, b] = [await at256(big), await at256(out.image)]
  assert.equal(a.length, b.length)
  let diff = 0
  for (let i = 0; i < a.length; i++) diff += Math.abs(a[i]! - b[i]!)
  assert.ok(diff / a.length < 2, `mean difference ${(diff / a.length).toFixed(2)} of 255`)
})

test('a picture whose re-encoding would be bigger than what was sent is stored as sent (never over MAX_IMAGE_BYTES)', T, async () => {
  // Every row the same noisy row: PNG's Up filter makes it tiny; as a 256-high JPEG it is noise.
  const [width, height] = [8000, 1100]
  let seed = 1
  const row = Buffer.from(Array.from({ length: width * 3 }, () => (seed = (seed * 1_103_515_245 + 12_345) >>> 0) >>> 24))
  const raw = Buffer.alloc(width * height * 3)
  for (let y = 0; y < height; y++) row.copy(raw, y * width * 3)
  const png = await sharp(raw, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 9, adaptiveFiltering: true }).toBuffer()
  const jpeg = await sharp(png).resize({ width: 256, height: 256, fit: 'outside' }).jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer()
  assert.ok(jpeg.length > 2 * png.length, `re-encoded: ${jpeg.length} bytes from ${png.length}`)
  const out = await shrinker.prepare(png, inspectImage(png), ['wide'])
  assert.equal(out.image, png)
  assert.equal(out.contentType, 'image/png')
})

test('SHRINK_IMAGES=all: an ordinary photo is stored as the model input a volunteer would get; versions reading another input, and GIFs, get the picture', T, async () => {
  const every = new ImageShrinker((id) => VERSIONS[id], { maxPixels: 40_000_000, everyPicture: true })
  const small = await picture(500, 375, { orientation: 3 })
  const out = await every.prepare(small, inspectImage(small), ['mobilenet'])
  assert.equal(out.contentType, MODEL_INPUT_CONTENT_TYPE)
  assert.ok(out.image.length > small.length, 'bigger than this upload, and stored all the same: the page skips its decode')
  assert.deepEqual(out.image, await modelInput(small, 'image/jpeg', 40_000_000, MOBILENET))
  assert.equal((await every.prepare(small, inspectImage(small), ['wide'])).image, small)
  const gif = await sharp(small).gif().toBuffer()
  assert.equal((await every.prepare(gif, inspectImage(gif), ['mobilenet'])).image, gif)
  assert.equal(await modelInput(out.image, MODEL_INPUT_CONTENT_TYPE, 40_000_000), out.image, 'a stored model input goes to volunteers as it is')
  await assert.rejects(modelInput(out.image.subarray(1), MODEL_INPUT_CONTENT_TYPE, 40_000_000), /147|150527/)
})
