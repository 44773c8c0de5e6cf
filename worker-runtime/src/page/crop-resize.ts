// MobileNet V2's evaluation transform (model PROVENANCE.md): shorter side to 256 (bilinear, half-pixel
// centres, no antialias: what tf.image.resizeBilinear(…, false, true) computes), centre crop 224, RGB in
// [0, 1] (the graph does x*2-1 itself). Plain JavaScript on the decoded RGBA bytes, computing only the 224 ×
// 224 pixels the crop keeps: the tfjs version cast and resized the whole picture first (≈ 3× the work), and
// doubles in JS give the same answer in every browser. The Node reference (preprocess.ts) keeps the tfjs
// ops, so the two are independent implementations of one definition.
export const INPUT_SIZE = 224
export const RESIZE_SHORTER_TO = 256
export const INPUT_LENGTH = INPUT_SIZE * INPUT_SIZE * 3

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

export interface CropPlan { window: SourceWindow; xs: Taps; ys: Taps }

/** The picture's size once its shorter side is 256 (the step before the centre crop). */
export function resizedSize(width: number, height: number): { width: number; height: number } {
  const scale = RESIZE_SHORTER_TO / Math.min(width, height)
  return { width: Math.max(INPUT_SIZE, Math.round(width * scale)), height: Math.max(INPUT_SIZE, Math.round(height * scale)) }
}

export function planCrop(width: number, height: number): CropPlan {
  if (!(width > 0 && height > 0)) throw new RangeError(`an image of ${width} × ${height} pixels has nothing to classify`)
  const { width: resizedW, height: resizedH } = resizedSize(width, height)
  const xs = axisTaps(width, resizedW, Math.floor((resizedW - INPUT_SIZE) / 2))
  const ys = axisTaps(height, resizedH, Math.floor((resizedH - INPUT_SIZE) / 2))
  return { xs, ys, window: { x: xs.min, y: ys.min, width: xs.max - xs.min + 1, height: ys.max - ys.min + 1 } }
}

/**
 * RGBA bytes of `plan.window` (row-major, 4 bytes per pixel, as getImageData returns them) → the model
 * input [224, 224, 3] as float32 in [0, 1]. Alpha is ignored, as tf.browser.fromPixels(…, 3) does.
 */
export function cropResize(rgba: ArrayLike<number>, plan: CropPlan, out: Float32Array = new Float32Array(INPUT_LENGTH)): Float32Array {
  const { xs, ys, window } = plan
  if (rgba.length < window.width * window.height * 4) throw new RangeError(`expected ${window.width} × ${window.height} RGBA pixels, got ${rgba.length} bytes`)
  const stride = window.width * 4
  const x0 = new Int32Array(INPUT_SIZE)
  const x1 = new Int32Array(INPUT_SIZE)
  for (let i = 0; i < INPUT_SIZE; i++) {
    x0[i] = (xs.lo[i]! - window.x) * 4
    x1[i] = (xs.hi[i]! - window.x) * 4
  }
  let o = 0
  for (let j = 0; j < INPUT_SIZE; j++) {
    const top = (ys.lo[j]! - window.y) * stride
    const bottom = (ys.hi[j]! - window.y) * stride
    const fy = ys.frac[j]!
    for (let i = 0; i < INPUT_SIZE; i++) {
      const fx = xs.frac[i]!
      const a = top + x0[i]!, b = top + x1[i]!, c = bottom + x0[i]!, d = bottom + x1[i]!
      for (let ch = 0; ch < 3; ch++) {
        const tl = rgba[a + ch]!, tr = rgba[b + ch]!, bl = rgba[c + ch]!, br = rgba[d + ch]!
        const upper = tl + (tr - tl) * fx
        const lower = bl + (br - bl) * fx
        out[o++] = (upper + (lower - upper) * fy) / 255
      }
    }
  }
  return out
}
