import * as tf from '@tensorflow/tfjs-core'

export class ImageDecodeError extends Error {}

/**
 * Image bytes → RGB tensor with the browser's own decoder. `colorSpaceConversion: 'none'` keeps the
 * stored pixel values (as the Node reference reads them); EXIF orientation is applied, as a viewer would.
 */
export async function decodeImage(bytes: Uint8Array, contentType: string): Promise<tf.Tensor3D> {
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
    return tf.browser.fromPixels(bitmap, 3)
  } finally {
    bitmap.close()
  }
}
