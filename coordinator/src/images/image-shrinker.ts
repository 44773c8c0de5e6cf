import { availableParallelism } from 'node:os'
import { MODEL_INPUT_CONTENT_TYPE, type Preprocessing } from '@hivesight/protocol'
import sharp, { type Sharp } from 'sharp'
import { DecodeGate } from './decode-gate.ts'
import type { ImageInfo } from './image-inspector.ts'
import { modelInputOfPixels, takesModelInput } from './model-input.ts'
import { neededShorterSide, planShrink, SHRINK_RULE, type ShrinkRule } from './shrink-plan.ts'

export interface PreparedImage {
  image: Buffer
  contentType: string
}

export interface ShrinkEvents {
  /** A picture was shrunk: how long it took, its bytes before and after. */
  shrunk(seconds: number, fromBytes: number, toBytes: number): void
}

/** What a far too big picture is made into: the model input when every version reads the same one, else a smaller picture. */
export interface ShrinkTarget {
  /** The shorter side the picture is resampled to (what the versions' resize reads); null: decoded at its size. */
  shorterSide: number | null
  /** The one preprocessing of all the versions, when pages can be sent its model input (224 × 224 RGB). */
  input?: Preprocessing
}

export interface ShrinkOptions {
  maxPixels: number
  rule?: ShrinkRule
  /** Every picture the versions can take as the model input is stored as it, not only far too big ones. */
  everyPicture?: boolean
  /** Pictures decoded at once (decode-gate.ts); default: all cores but one, at least 1. */
  concurrency?: number
}

/**
 * Shrinks pictures far bigger than their model needs when they are accepted, before the commit, so that
 * the database, the dispatch and the pages (trusted, and volunteers through their model input) all handle
 * little (shrink-plan.ts decides which and how far). libvips decodes a JPEG at 1/2, 1/4 or 1/8 scale where
 * it can (DCT scaling), then resamples with Lanczos to the shorter side the model's resize reads; EXIF
 * orientation is applied, so the result has none. Where the versions take it, what is stored is the model
 * input itself, cropped with the pages' code (the resize is then a copy): a page only normalises it, where
 * a JPEG of the same picture cost it a decode (~7 ms) and the coordinator an encode, and every browser gets
 * the same bytes. Otherwise JPEG at quality 95 without chroma subsampling (PNG where the picture has alpha).
 * A picture it cannot read goes out as it came: the page then reports the decode failure it always did.
 */
export class ImageShrinker {
  private readonly gate: DecodeGate

  constructor(
    /** A model version's preprocessing (undefined: unknown version, leave its images alone). */
    private readonly preprocessingOf: (versionId: string) => Preprocessing | undefined,
    private readonly opts: ShrinkOptions,
    private readonly events?: ShrinkEvents,
  ) {
    this.gate = new DecodeGate(opts.concurrency ?? Math.max(1, availableParallelism() - 1))
  }

  /** What to make of the picture for these versions, or null (from the inspected header: nothing is decoded). */
  target(info: ImageInfo, versionIds: readonly string[]): ShrinkTarget | null {
    const all = versionIds.map((id) => this.preprocessingOf(id))
    // A GIF may be animated, and pages read its first frame: leave it to them.
    if (all.length === 0 || info.contentType === 'image/gif' || all.some((p) => p === undefined)) return null
    const ps = all as Preprocessing[]
    const shorterSide = planShrink(info.width, info.height, Math.max(...ps.map(neededShorterSide)), this.opts.rule ?? SHRINK_RULE)
    const first = ps[0]!
    const input = takesModelInput(first) && ps.every((p) => sameInput(p, first)) ? first : undefined
    if (input && (shorterSide !== null || this.opts.everyPicture)) return { shorterSide, input }
    return shorterSide === null ? null : { shorterSide }
  }

  /** The picture for `versionIds`: shrunk when far too big for all of them, else as it came. */
  async prepare(image: Buffer, info: ImageInfo, versionIds: readonly string[]): Promise<PreparedImage> {
    const target = this.target(info, versionIds)
    return target === null ? { image, contentType: info.contentType } : this.gate.run(() => this.shrink(image, info.contentType, target))
  }

  private async shrink(image: Buffer, contentType: string, target: ShrinkTarget): Promise<PreparedImage> {
    const started = performance.now()
    try {
      const input = () => sharp(image, { failOn: 'error', limitInputPixels: this.opts.maxPixels })
      const side = target.shorterSide
      const resized = () => (side === null ? input().rotate() : input().rotate().resize({ width: side, height: side, fit: 'outside' }))
      const out = target.input ? await this.modelInput(resized(), target.input) : await this.picture(resized(), contentType, input)
      // A picture that compresses far better than its re-encoding can come out bigger: never store more than
      // was sent, so an image in the database is at most MAX_IMAGE_BYTES (db/write-set-bound.ts counts on it).
      // A model input is 147 KB whatever was sent, far under that bound, and spares the page its decode.
      if (!target.input && out.image.length > image.length) return { image, contentType }
      this.events?.shrunk((performance.now() - started) / 1000, image.length, out.image.length)
      return out
    } catch {
      return { image, contentType }
    }
  }

  private async modelInput(resized: Sharp, p: Preprocessing): Promise<PreparedImage> {
    const { data, info } = await resized.toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true })
    return { image: modelInputOfPixels(data, info.width, info.height, 3, p), contentType: MODEL_INPUT_CONTENT_TYPE }
  }

  private async picture(resized: Sharp, contentType: string, input: () => Sharp): Promise<PreparedImage> {
    const alpha = contentType !== 'image/jpeg' && (await input().metadata()).hasAlpha === true
    return alpha ? { image: await resized.png().toBuffer(), contentType: 'image/png' } : { image: await resized.jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer(), contentType: 'image/jpeg' }
  }
}

/** The same model input: the geometry and channels (the mean and std are applied on the page, per version). */
function sameInput(a: Preprocessing, b: Preprocessing): boolean {
  return a.inputSize === b.inputSize && a.channels === b.channels && a.resize === b.resize && (a.resizeShorterTo ?? null) === (b.resizeShorterTo ?? null)
}
