import { imageSize } from 'image-size'
import { AppError } from '../errors/app-errors.ts'

export interface ImageInfo {
  contentType: 'image/jpeg' | 'image/png' | 'image/webp' | 'image/gif'
  width: number
  height: number
}

const CONTENT_TYPES: Record<string, ImageInfo['contentType']> = { jpg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif' }

/**
 * The type comes from the bytes (image-size reads magic numbers and headers), never from the file name or
 * the declared Content-Type: every browser decodes these four, and nothing else reaches a worker.
 */
export interface PixelLimits {
  maxPixels: number
  maxSide: number
}

// A 600 KB PNG can claim 196 megapixels; the header is checked before anything decodes the image.
export const DEFAULT_PIXEL_LIMITS: PixelLimits = { maxPixels: 40_000_000, maxSide: 16_384 }

export function inspectImage(bytes: Buffer, limits: PixelLimits = DEFAULT_PIXEL_LIMITS): ImageInfo {
  if (bytes.length === 0) throw new AppError('IMAGE_INVALID', 'the uploaded file is empty')
  let info: ReturnType<typeof imageSize>
  try {
    info = imageSize(bytes)
  } catch {
    throw new AppError('UNSUPPORTED_IMAGE_TYPE', 'the file is not a JPEG, PNG, WebP or GIF image (decided from its content, not its name)')
  }
  const contentType = info.type ? CONTENT_TYPES[info.type] : undefined
  if (!contentType) {
    throw new AppError('UNSUPPORTED_IMAGE_TYPE', `images of type ${info.type ?? 'unknown'} are not supported; send JPEG, PNG, WebP or GIF`)
  }
  if (!info.width || !info.height) throw new AppError('IMAGE_INVALID', 'the image header gives no size')
  if (info.width > limits.maxSide || info.height > limits.maxSide || info.width * info.height > limits.maxPixels) {
    throw new AppError('IMAGE_TOO_MANY_PIXELS', `the image claims ${info.width}×${info.height} pixels; at most ${limits.maxSide} per side and ${(limits.maxPixels / 1e6).toFixed(0)} megapixels are accepted`)
  }
  // EXIF orientations 5-8 swap the sides; the browser decodes with the orientation applied.
  const swapped = (info.orientation ?? 1) >= 5
  return { contentType, width: swapped ? info.height : info.width, height: swapped ? info.width : info.height }
}
