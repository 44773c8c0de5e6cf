import sharp from 'sharp'
import type { ImageInfo } from './image-inspector.ts'
import { planShrink, SHRINK_RULE, type ShrinkRule } from './shrink-plan.ts'

export interface PreparedImage {
  image: Buffer
  contentType: string
}

export interface ShrinkEvents {
  /** A picture was shrunk: how long it took, its bytes before and after. */
  shrunk(seconds: number, fromBytes: number, toBytes: number): void
}

/**
 * Shrinks pictures far bigger than their model needs when they are accepted, before the commit, so that
 * the database, the dispatch and the pages (trusted, and volunteers through their model input) all handle
 * the small picture (shrink-plan.ts decides which and how far). libvips decodes a JPEG at 1/2, 1/4 or 1/8 scale where it can (DCT scaling), then
 * resamples with Lanczos; EXIF orientation is applied, so the result has none. JPEG at quality 95 without
 * chroma subsampling, PNG where the picture has alpha. A picture it cannot read goes out as it came: the
 * page then reports the decode failure it always did.
 */
export class ImageShrinker {
  constructor(
    /** The shorter side a model version's resize reads (undefined: unknown version, leave its images alone). */
    private readonly neededFor: (versionId: string) => number | undefined,
    private readonly opts: { maxPixels: number; rule?: ShrinkRule },
    private readonly events?: ShrinkEvents,
  ) {}

  /** The shorter side to shrink to for these versions, or null (from the inspected header: nothing is decoded). */
  target(info: ImageInfo, versionIds: readonly string[]): number | null {
    const needed = Math.max(0, ...versionIds.map((id) => this.neededFor(id) ?? 0))
    // A GIF may be animated, and pages read its first frame: leave it to them.
    if (needed === 0 || info.contentType === 'image/gif') return null
    return planShrink(info.width, info.height, needed, this.opts.rule ?? SHRINK_RULE)
  }

  /** The picture for `versionIds`: shrunk when far too big for all of them, else as it came. */
  async prepare(image: Buffer, info: ImageInfo, versionIds: readonly string[]): Promise<PreparedImage> {
    const target = this.target(info, versionIds)
    return target === null ? { image, contentType: info.contentType } : this.shrink(image, info.contentType, target)
  }

  async shrink(image: Buffer, contentType: string, shorterSide: number): Promise<PreparedImage> {
    const started = performance.now()
    try {
      const input = () => sharp(image, { failOn: 'error', limitInputPixels: this.opts.maxPixels })
      const alpha = contentType !== 'image/jpeg' && (await input().metadata()).hasAlpha === true
      const resized = input().rotate().resize({ width: shorterSide, height: shorterSide, fit: 'outside' })
      const out = alpha ? await resized.png().toBuffer() : await resized.jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer()
      // A picture that compresses far better than its re-encoding can come out bigger: never store more than
      // was sent, so an image in the database is at most MAX_IMAGE_BYTES (db/write-set-bound.ts counts on it).
      if (out.length > image.length) return { image, contentType }
      this.events?.shrunk((performance.now() - started) / 1000, image.length, out.length)
      return { image: out, contentType: alpha ? 'image/png' : 'image/jpeg' }
    } catch {
      return { image, contentType }
    }
  }
}
