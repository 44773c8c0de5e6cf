import { MODEL_INPUT_BYTES, MODEL_INPUT_CONTENT_TYPE, type Preprocessing } from '@hivesight/protocol'
import { cropResize, MOBILENET_PREPROCESSING, planCrop, type Taps } from '@hivesight/worker-runtime/crop-resize'
import sharp from 'sharp'

/**
 * Whether pages can take `p`'s input as a model input (224 × 224 RGB bytes, MODEL_INPUT_CONTENT_TYPE): the
 * pages normalise it with the version's own mean and std, so only the size and the channels must fit.
 */
export function takesModelInput(p: Preprocessing): boolean {
  return p.channels === 3 && p.inputSize * p.inputSize * 3 === MODEL_INPUT_BYTES
}

/**
 * Decoded pixels (`channels` bytes per pixel, row-major) → the model input `p` reads: centre-cropped and
 * resized with the pages' own code, rounded to bytes. Only the window the crop reads is copied, in the RGBA
 * layout getImageData hands the pages.
 */
export function modelInputOfPixels(pixels: Uint8Array, width: number, height: number, channels: 3 | 4, p: Preprocessing = MOBILENET_PREPROCESSING): Buffer {
  if (!takesModelInput(p)) throw new RangeError(`a model input is ${MODEL_INPUT_BYTES} bytes of RGB: this version reads ${p.inputSize} × ${p.inputSize} × ${p.channels}`)
  const plan = planCrop(width, height, p)
  const { x, y, width: w, height: h } = plan.window
  // Resized to exactly the shorter side the crop reads (a shrunk picture): every tap is a pixel, so the crop is rows copied.
  if (channels === 3 && isCopy(plan.xs) && isCopy(plan.ys)) {
    const out = Buffer.allocUnsafe(MODEL_INPUT_BYTES)
    for (let row = 0; row < h; row++) out.set(pixels.subarray(((y + row) * width + x) * 3, ((y + row) * width + x + w) * 3), row * w * 3)
    return out
  }
  const rgba = new Uint8Array(w * h * 4)
  for (let row = 0; row < h; row++) {
    const from = ((y + row) * width + x) * channels
    if (channels === 4) rgba.set(pixels.subarray(from, from + w * 4), row * w * 4)
    else for (let i = 0, o = row * w * 4; i < w; i++, o += 4) {
      rgba[o] = pixels[from + i * 3]!
      rgba[o + 1] = pixels[from + i * 3 + 1]!
      rgba[o + 2] = pixels[from + i * 3 + 2]!
    }
  }
  // mean 0, std 1: the resized pixel values themselves, which the page normalises as `p` says.
  const input = cropResize(rgba, { ...plan, mean: [0, 0, 0], std: [1, 1, 1] })
  const out = Buffer.allocUnsafe(MODEL_INPUT_BYTES)
  for (let i = 0; i < MODEL_INPUT_BYTES; i++) out[i] = Math.round(input[i]!)
  return out
}

function isCopy(t: Taps): boolean {
  for (let i = 0; i < t.lo.length; i++) if (t.frac[i] !== 0 || t.lo[i] !== t.lo[0]! + i || t.hi[i] !== t.lo[i]) return false
  return true
}

/**
 * A stored picture → what the model needs, for a volunteer tab that must not see the photo: decoded here
 * (EXIF orientation applied, as the pages do) and made the model input; a picture stored as the model input
 * already (a big photo shrunk when accepted) goes as it is. Every volunteer of a job gets the same bytes, so
 * honest ones agree exactly.
 */
export async function modelInput(image: Buffer, contentType: string | null, maxPixels: number, p: Preprocessing = MOBILENET_PREPROCESSING): Promise<Buffer> {
  if (contentType === MODEL_INPUT_CONTENT_TYPE) {
    if (image.length !== MODEL_INPUT_BYTES) throw new RangeError(`a stored model input has ${image.length} bytes, not ${MODEL_INPUT_BYTES}`)
    return image
  }
  const { data, info } = await sharp(image, { limitInputPixels: maxPixels, failOn: 'error' }).rotate().ensureAlpha().raw().toBuffer({ resolveWithObject: true })
  return modelInputOfPixels(data, info.width, info.height, 4, p)
}
