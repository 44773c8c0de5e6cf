import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as tf from '@tensorflow/tfjs-core'
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'
import { pageAssets } from '../src/index.ts'
import { cropResize, INPUT_LENGTH, planCrop } from '../src/page/crop-resize.ts'
import { toModelInput } from '../src/page/preprocess.ts'

/** A deterministic noisy RGBA picture (a pseudo-random generator, so a failure can be replayed). */
function picture(width: number, height: number, seed: number): Uint8Array {
  const rgba = new Uint8Array(width * height * 4)
  let s = seed
  for (let i = 0; i < rgba.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0
    rgba[i] = (s >>> 16) & 0xff
  }
  return rgba
}

function rgbOnly(rgba: Uint8Array): Int32Array {
  const rgb = new Int32Array((rgba.length / 4) * 3)
  for (let p = 0, o = 0; p < rgba.length; p += 4) {
    rgb[o++] = rgba[p]!
    rgb[o++] = rgba[p + 1]!
    rgb[o++] = rgba[p + 2]!
  }
  return rgb
}

/** The crop window's RGBA rows, as the page's canvas hands them over. */
function windowOf(rgba: Uint8Array, width: number, plan: ReturnType<typeof planCrop>): Uint8Array {
  const { x, y, width: w, height: h } = plan.window
  const out = new Uint8Array(w * h * 4)
  for (let row = 0; row < h; row++) out.set(rgba.subarray(((y + row) * width + x) * 4, ((y + row) * width + x + w) * 4), row * w * 4)
  return out
}

test('the page\'s plain-JS crop-resize computes what tfjs resizeBilinear + centre crop compute, for every shape', { timeout: 60_000 }, async () => {
  setWasmPaths(`${pageAssets.wasmDir}/`)
  await tf.setBackend('wasm')
  await tf.ready()
  // Landscape, portrait, square, exactly the crop, smaller than the crop (upscaled), odd sizes, a thin strip.
  for (const [width, height] of [[500, 375], [375, 500], [256, 256], [224, 224], [100, 80], [333, 257], [1000, 40], [37, 900]] as const) {
    const rgba = picture(width, height, width * 7919 + height)
    const plan = planCrop(width, height)
    const ours = cropResize(windowOf(rgba, width, plan), plan)
    const pixels = tf.tensor3d(rgbOnly(rgba), [height, width, 3], 'int32')
    const theirs = toModelInput(pixels)
    const expected = await theirs.data()
    pixels.dispose()
    theirs.dispose()
    assert.equal(ours.length, INPUT_LENGTH)
    let worst = 0
    for (let i = 0; i < INPUT_LENGTH; i++) worst = Math.max(worst, Math.abs(ours[i]! - expected[i]!))
    // float32 (wasm) against doubles (JS): within 1e-4 of the [0, 1] range, a fortieth of one grey level.
    assert.ok(worst < 1e-4, `${width} × ${height}: largest difference ${worst}`)
  }
})

test('only the window the crop reads is needed, and it lies inside the picture', { timeout: 10_000 }, () => {
  const wide = planCrop(1000, 500)
  // 1000 × 500 → 512 × 256, crop 224 × 224: about 438 × 438 source pixels in the middle are read.
  assert.ok(wide.window.x > 270 && wide.window.width < 450 && wide.window.y > 25 && wide.window.height < 450, `only the middle of a wide picture is read: ${JSON.stringify(wide.window)}`)
  for (const [w, h] of [[224, 224], [10, 10], [4000, 3000], [3, 5000]] as const) {
    const { window } = planCrop(w, h)
    assert.ok(window.x >= 0 && window.y >= 0 && window.x + window.width <= w && window.y + window.height <= h, `${w} × ${h}: ${JSON.stringify(window)}`)
  }
  assert.throws(() => planCrop(0, 10), /nothing to classify/)
  assert.throws(() => cropResize(new Uint8Array(8), planCrop(300, 300)), /expected/)
})
