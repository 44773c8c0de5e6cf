import { MODEL_SELECTOR_PATTERN } from '@hivesight/protocol'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { Compile } from 'typebox/compile'
import { AppError } from '../errors/app-errors.ts'
import { inspectImage, type PixelLimits } from '../images/image-inspector.ts'
import type { UploadedImage } from '../jobs/job-service.ts'

export const PRIORITY = { minimum: -1000, maximum: 1000 }
/** NAME, NAME@VERSION or NAME@LABEL (models/model-selection.ts reads it). */
export const MODEL_SELECTOR = { maxLength: 100, pattern: MODEL_SELECTOR_PATTERN, description: 'NAME, NAME@VERSION or NAME@LABEL; absent: the default model at its default label' }

/**
 * The JSON form of a submit. Images travel inline as base64; fetching a `url` for the client is left out
 * on purpose: it would let anyone make the coordinator request internal addresses (SSRF).
 */
export const JsonSubmit = Type.Object({
  images: Type.Array(Type.Object({
    data: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9+/]*={0,2}$', description: 'the image file, base64' }),
    filename: Type.Optional(Type.String({ maxLength: 10_000 })),
  }, { additionalProperties: false }), { minItems: 1 }),
  priority: Type.Optional(Type.Integer(PRIORITY)),
  model: Type.Optional(Type.String(MODEL_SELECTOR)),
}, { additionalProperties: false })
const checkJson = Compile(JsonSubmit)

export interface UploadLimits {
  pixelLimits: PixelLimits
  maxImageBytes: number
  maxImages: number
}

/** The original name is only echoed back: no path, no control characters, bounded length. */
export function cleanFilename(name: string | undefined): string | null {
  if (!name) return null
  // eslint-disable-next-line no-control-regex
  const base = name.split(/[\\/]/).pop()!.replace(/[\u0000-\u001f\u007f]/g, '').trim()
  return base ? base.slice(0, 255) : null
}

function accept(images: UploadedImage[], bytes: Buffer, rawName: string | undefined, limits: UploadLimits): void {
  const filename = cleanFilename(rawName)
  try {
    images.push({ bytes, filename, info: inspectImage(bytes, limits.pixelLimits) })
  } catch (err) {
    if (err instanceof AppError) throw new AppError(err.code, `${filename ?? `image ${images.length + 1}`}: ${err.message}`)
    throw err
  }
}

function parsePriority(raw: unknown): number {
  const n = Number(raw)
  if (!Number.isInteger(n) || n < PRIORITY.minimum || n > PRIORITY.maximum) {
    throw new AppError('BAD_REQUEST', `priority must be an integer from ${PRIORITY.minimum} to ${PRIORITY.maximum}`)
  }
  return n
}

/** Images and priority from a multipart/form-data or an application/json request; every image checked. */
export async function readUpload(req: FastifyRequest, queryPriority: number | undefined, limits: UploadLimits, queryModel?: string): Promise<{ images: UploadedImage[]; priority: number; model: string | undefined }> {
  const images: UploadedImage[] = []
  let priority = queryPriority ?? 0
  let model = queryModel
  if (req.isMultipart()) {
    for await (const part of req.parts()) {
      if (part.type === 'file') accept(images, await part.toBuffer(), part.filename, limits)
      else if (part.fieldname === 'priority') priority = parsePriority(part.value)
      else if (part.fieldname === 'model') model = parseModel(part.value, queryModel)
    }
  } else if (req.headers['content-type']?.startsWith('application/json')) {
    const body: unknown = req.body
    if (!checkJson.Check(body)) {
      const first = [...checkJson.Errors(body)][0]
      throw new AppError('BAD_REQUEST', `the JSON body must be {"images":[{"data":"<base64>","filename"?:…}],"priority"?:n,"model"?:"NAME[@VERSION|@LABEL]"}: ${first ? `${first.instancePath} ${first.message}` : 'invalid'}`)
    }
    if (body.images.length > limits.maxImages) throw new AppError('TOO_MANY_IMAGES', `at most ${limits.maxImages} images per request`)
    for (const img of body.images) {
      const bytes = Buffer.from(img.data, 'base64')
      if (bytes.length > limits.maxImageBytes) throw new AppError('IMAGE_TOO_LARGE', `${cleanFilename(img.filename) ?? 'an image'} is larger than ${limits.maxImageBytes} bytes`)
      accept(images, bytes, img.filename, limits)
    }
    if (body.priority !== undefined) priority = body.priority
    if (body.model !== undefined) model = parseModel(body.model, queryModel)
  } else {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'send the images as multipart/form-data (curl -F image=@cat.jpg) or as JSON {"images":[{"data":"<base64>"}]}')
  }
  if (images.length === 0) throw new AppError('NO_IMAGE', 'the request holds no image: send at least one file part, e.g. curl -F image=@cat.jpg')
  return { images, priority, model }
}

const SELECTOR = new RegExp(MODEL_SELECTOR.pattern)

function parseModel(raw: unknown, fromQuery: string | undefined): string {
  const value = String(raw)
  if (!SELECTOR.test(value)) throw new AppError('BAD_REQUEST', `model must be NAME, NAME@VERSION or NAME@LABEL, not "${value.slice(0, 100)}"`)
  if (fromQuery !== undefined && fromQuery !== value) throw new AppError('BAD_REQUEST', `the query names model ${fromQuery} and the body ${value}: name it once`)
  return value
}
