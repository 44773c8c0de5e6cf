import { MODEL_INPUT_BYTES } from '@hivesight/protocol'
import { cropResize, planCrop } from '@hivesight/worker-runtime/crop-resize'
import sharp from 'sharp'

/**
 * A photo → what the model needs, for a volunteer tab that must not see the photo: decoded here (EXIF
 * orientation applied, as the pages do), centre-cropped and resized with the pages' own code, rounded to
 * 224 × 224 RGB bytes. Every volunteer of a job gets the same bytes, so honest ones agree exactly.
 */
export async function modelInput(image: Buffer, maxPixels: number): Promise<Buffer> {
  const { data, info } = await sharp(image, { limitInputPixels: maxPixels, failOn: 'error' }).rotate().ensureAlpha().raw().toBuffer({ resolveWithObject: true })
  const plan = planCrop(info.width, info.height)
  const { x, y, width, height } = plan.window
  // Only the window the crop reads, as getImageData hands it to the pages.
  const rgba = new Uint8Array(width * height * 4)
  for (let row = 0; row < height; row++) {
    const from = ((y + row) * info.width + x) * 4
    rgba.set(data.subarray(from, from + width * 4), row * width * 4)
  }
  const input = cropResize(rgba, plan)
  const out = Buffer.allocUnsafe(MODEL_INPUT_BYTES)
  for (let i = 0; i < MODEL_INPUT_BYTES; i++) out[i] = Math.round(input[i]! * 255)
  return out
}
