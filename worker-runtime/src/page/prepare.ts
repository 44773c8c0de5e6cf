import { MODEL_INPUT_BYTES, MODEL_INPUT_CONTENT_TYPE, type Preprocessing } from '@hivesight/protocol'
import { cropResize, INPUT_LENGTH, MOBILENET_PREPROCESSING, planCrop } from './crop-resize.ts'

export class ImageDecodeError extends Error {}

type Canvas2D = OffscreenCanvasRenderingContext2D
let scratch: { canvas: OffscreenCanvas; ctx: Canvas2D } | undefined

/** One canvas reused for every image (a new one per image costs an allocation the size of the picture). */
function canvasOf(width: number, height: number): Canvas2D {
  if (!scratch) {
    const canvas = new OffscreenCanvas(width, height)
    // willReadFrequently keeps the canvas in memory, not on a GPU we would read back from.
    const ctx = canvas.getContext('2d', { willReadFrequently: true, alpha: true })
    if (!ctx) throw new Error('this browser has no 2D OffscreenCanvas')
    scratch = { canvas, ctx }
  }
  if (scratch.canvas.width < width || scratch.canvas.height < height) {
    scratch.canvas.width = Math.max(scratch.canvas.width, width)
    scratch.canvas.height = Math.max(scratch.canvas.height, height)
  }
  return scratch.ctx
}

/**
 * Image bytes → the model input as its version's preprocessing says (MobileNet: [224, 224, 3] in [0, 1]), with the browser's own decoder.
 * `colorSpaceConversion: 'none'` keeps the stored pixel values (as the Node reference reads them); EXIF
 * orientation is applied, as a viewer would. Only the window the centre crop reads leaves the decoder.
 */
export async function prepareImage(bytes: Uint8Array, contentType: string, p: Preprocessing = MOBILENET_PREPROCESSING): Promise<Float32Array> {
  if (contentType === MODEL_INPUT_CONTENT_TYPE) return fromModelInput(bytes, p)
  let bitmap: ImageBitmap
  try {
    bitmap = await createImageBitmap(new Blob([bytes as BlobPart], { type: contentType }), {
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
      imageOrientation: 'from-image',
    })
  } catch (err) {
    throw new ImageDecodeError(`the browser could not decode this ${contentType} image (${err instanceof Error ? err.message : String(err)})`)
  }
  try {
    const plan = planCrop(bitmap.width, bitmap.height, p)
    const { x, y, width, height } = plan.window
    const ctx = canvasOf(width, height)
    ctx.clearRect(0, 0, width, height)
    ctx.drawImage(bitmap, x, y, width, height, 0, 0, width, height)
    return cropResize(ctx.getImageData(0, 0, width, height).data, plan)
  } finally {
    bitmap.close()
  }
}

/** A volunteer's job: the coordinator sent the model's input pixels (224 × 224 RGB bytes), not a photo; normalised here. */
export function fromModelInput(bytes: Uint8Array, p: Preprocessing = MOBILENET_PREPROCESSING): Float32Array {
  if (bytes.length !== MODEL_INPUT_BYTES) throw new ImageDecodeError(`a model input has ${MODEL_INPUT_BYTES} bytes, not ${bytes.length}`)
  if (p.channels !== 3 || p.inputSize * p.inputSize * 3 !== INPUT_LENGTH) throw new ImageDecodeError('this model does not take the 224 × 224 RGB input volunteers are sent')
  const out = new Float32Array(INPUT_LENGTH)
  for (let i = 0; i < INPUT_LENGTH; i++) out[i] = (bytes[i]! - p.mean[i % 3]!) / p.std[i % 3]!
  return out
}
