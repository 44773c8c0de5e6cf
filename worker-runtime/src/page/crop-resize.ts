// MobileNet V2's evaluation transform (model PROVENANCE.md): shorter side to 256 (bilinear, half-pixel
// centres, no antialias: what tf.image.resizeBilinear(…, false, true) computes), centre crop 224, RGB in
// [0, 1] (the graph does x*2-1 itself). Plain JavaScript on the decoded RGBA bytes, computing only the 224 ×
// 224 pixels the crop keeps: the tfjs version cast and resized the whole picture first (≈ 3× the work), and
// doubles in JS give the same answer in every browser. The Node reference (preprocess.ts) keeps the tfjs
// ops, so the two are independent implementations of one definition. Other models bring their own
// rule (a model version's Preprocessing, protocol/api/model.ts); MobileNet's is the default everywhere.
import type { Preprocessing } from '@hivesight/protocol'

export const INPUT_SIZE = 224
export const RESIZE_SHORTER_TO = 256
export const INPUT_LENGTH = INPUT_SIZE * INPUT_SIZE * 3

/** MobileNet V2's transform as a Preprocessing: (v - 0) / 255 is exactly v / 255. */
export const MOBILENET_PREPROCESSING: Preprocessing = {
  inputSize: INPUT_SIZE, channels: 3, resize: 'shorter-side-then-centre-crop', resizeShorterTo: RESIZE_SHORTER_TO, mean: [0, 0, 0], std: [255, 255, 255],
}

/** One axis of the resize: for each output pixel of the crop, its two source indices and the weight of the second. */
export interface Taps { lo: Int32Array; hi: Int32Array; frac: Float64Array; min: number; max: number }

/**
 * `count` output pixels from `offset` on, of `size` source pixels resized to `resized`. Exported so that a
 * client can resize a photo to the shorter side of 256 with the same arithmetic (the crop is then exact).
 */
export function axisTaps(size: number, resized: number, offset: number, count = INPUT_SIZE): Taps {
  const scale = size / resized
  const lo = new Int32Array(count)
  const hi = new Int32Array(count)
  const frac = new Float64Array(count)
  for (let i = 0; i < count; i++) {
    const at = scale * (offset + i + 0.5) - 0.5
    const floor = Math.max(0, Math.floor(at))
    lo[i] = floor
    hi[i] = Math.min(size - 1, Math.ceil(at))
    frac[i] = at - floor
  }
  return { lo, hi, frac, min: lo[0]!, max: hi[count - 1]! }
}

/** The part of a width × height picture that the crop reads: decode-side code may fetch only these pixels. */
export interface SourceWindow { x: number; y: number; width: number; height: number }

export interface CropPlan { window: SourceWindow; xs: Taps; ys: Taps; size: number; channels: 1 | 3; mean: number[]; std: number[] }

/** The picture's size once its shorter side is 256 (the step before the centre crop). */
export function resizedSize(width: number, height: number): { width: number; height: number } {
  const scale = RESIZE_SHORTER_TO / Math.min(width, height)
  return { width: Math.max(INPUT_SIZE, Math.round(width * scale)), height: Math.max(INPUT_SIZE, Math.round(height * scale)) }
}

export function planCrop(width: number, height: number, p: Preprocessing = MOBILENET_PREPROCESSING): CropPlan {
  if (!(width > 0 && height > 0)) throw new RangeError(`an image of ${width} × ${height} pixels has nothing to classify`)
  const n = p.inputSize
  let xs: Taps
  let ys: Taps
  if (p.resize === 'shorter-side-then-centre-crop') {
    const shorter = p.resizeShorterTo ?? Math.round((n * RESIZE_SHORTER_TO) / INPUT_SIZE)
    const scale = shorter / Math.min(width, height)
    const resizedW = Math.max(n, Math.round(width * scale))
    const resizedH = Math.max(n, Math.round(height * scale))
    xs = axisTaps(width, resizedW, Math.floor((resizedW - n) / 2), n)
    ys = axisTaps(height, resizedH, Math.floor((resizedH - n) / 2), n)
  } else if (p.resize === 'centre-crop-then-resize') {
    // The largest centred square, resized to n: in axisTaps' terms, a resize to n·size/side, offset by the crop.
    const side = Math.min(width, height)
    xs = axisTaps(width, (n * width) / side, (Math.floor((width - side) / 2) * n) / side, n)
    ys = axisTaps(height, (n * height) / side, (Math.floor((height - side) / 2) * n) / side, n)
  } else {
    xs = axisTaps(width, n, 0, n)
    ys = axisTaps(height, n, 0, n)
  }
  return { xs, ys, size: n, channels: p.channels, mean: p.mean, std: p.std, window: { x: xs.min, y: ys.min, width: xs.max - xs.min + 1, height: ys.max - ys.min + 1 } }
}

/**
 * RGBA bytes of `plan.window` (row-major, 4 bytes per pixel, as getImageData returns them) → the model
 * input [size, size, channels] as float32, each value (v - mean) / std (MobileNet: v / 255, in [0, 1]).
 * Alpha is ignored, as tf.browser.fromPixels(…, 3) does; one channel is the picture's luma (BT.601).
 */
export function cropResize(rgba: ArrayLike<number>, plan: CropPlan, out: Float32Array = new Float32Array(plan.size * plan.size * plan.channels)): Float32Array {
  const { xs, ys, window, size } = plan
  if (rgba.length < window.width * window.height * 4) throw new RangeError(`expected ${window.width} × ${window.height} RGBA pixels, got ${rgba.length} bytes`)
  const stride = window.width * 4
  const x0 = new Int32Array(size)
  const x1 = new Int32Array(size)
  for (let i = 0; i < size; i++) {
    x0[i] = (xs.lo[i]! - window.x) * 4
    x1[i] = (xs.hi[i]! - window.x) * 4
  }
  const [m0, m1, m2] = plan.mean as [number, number, number]
  const [s0, s1, s2] = plan.std as [number, number, number]
  const px = [0, 0, 0]
  let o = 0
  for (let j = 0; j < size; j++) {
    const top = (ys.lo[j]! - window.y) * stride
    const bottom = (ys.hi[j]! - window.y) * stride
    const fy = ys.frac[j]!
    for (let i = 0; i < size; i++) {
      const fx = xs.frac[i]!
      const a = top + x0[i]!, b = top + x1[i]!, c = bottom + x0[i]!, d = bottom + x1[i]!
      for (let ch = 0; ch < 3; ch++) {
        const tl = rgba[a + ch]!, tr = rgba[b + ch]!, bl = rgba[c + ch]!, br = rgba[d + ch]!
        const upper = tl + (tr - tl) * fx
        const lower = bl + (br - bl) * fx
        px[ch] = upper + (lower - upper) * fy
      }
      if (plan.channels === 3) {
        out[o++] = (px[0]! - m0) / s0
        out[o++] = (px[1]! - m1) / s1
        out[o++] = (px[2]! - m2) / s2
      } else {
        out[o++] = (0.299 * px[0]! + 0.587 * px[1]! + 0.114 * px[2]! - m0) / s0
      }
    }
  }
  return out
}
