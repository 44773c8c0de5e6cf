import { randomUUID } from 'node:crypto'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { Type, type Static } from 'typebox'
import { AppError } from '../errors/app-errors.ts'
import type { PixelLimits } from '../images/image-inspector.ts'
import type { UploadedImage } from '../jobs/job-service.ts'
import type { ModelLookup, ResolvedVersion } from '../models/model-lookup.ts'
import { requireApiKey } from './auth.ts'
import {
  abortOnClose, failureOf, imageFromBase64, isFinal, limitPerKey, resultOf, scopeOf, volunteersAllowed,
  type ClassifiedJob, type CompatRoutesOptions,
} from './compat-common.ts'

/**
 * The Open Inference Protocol v2 REST API (KServe, Triton), with Triton's classification extension:
 * BYTES inputs hold base64 image files, the output is "score:index:label" strings.
 */
export interface OipRoutesOptions extends CompatRoutesOptions {
  models: ModelLookup
  /** Images per infer request. */
  maxImages: number
  /** The server part of /v2/health/ready (database, migrations); the default model must be ready as well. */
  ready: () => Promise<boolean>
  /** Reported by GET /v2. */
  serverVersion?: string
}

// Workers report the top 5 classes of each image.
const TOP = 5
const TENSOR_DEPTH = 8

const OipError = Type.Object({ error: Type.String() })
const Parameters = Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]))
const TensorMetadata = Type.Object({ name: Type.String(), datatype: Type.String(), shape: Type.Array(Type.Integer()) })
const ModelMetadata = Type.Object({
  name: Type.String(),
  versions: Type.Array(Type.String()),
  platform: Type.String(),
  inputs: Type.Array(TensorMetadata),
  outputs: Type.Array(TensorMetadata),
  parameters: Parameters,
})
const ModelReady = Type.Object({ name: Type.String(), ready: Type.Boolean() })
const InferRequest = Type.Object({
  id: Type.Optional(Type.String({ maxLength: 256 })),
  parameters: Type.Optional(Parameters),
  inputs: Type.Array(Type.Object({
    name: Type.String({ maxLength: 256 }),
    shape: Type.Array(Type.Integer({ minimum: 0 }), { maxItems: TENSOR_DEPTH }),
    datatype: Type.String({ maxLength: 16 }),
    parameters: Type.Optional(Parameters),
    data: Type.Array(Type.Unknown(), { description: 'base64-encoded image files, flat or nested as the shape says' }),
  }), { minItems: 1 }),
  outputs: Type.Optional(Type.Array(Type.Object({ name: Type.String({ maxLength: 256 }), parameters: Type.Optional(Parameters) }))),
})
type InferRequest = Static<typeof InferRequest>
const InferResponse = Type.Object({
  model_name: Type.String(),
  model_version: Type.String(),
  id: Type.String(),
  parameters: Parameters,
  outputs: Type.Array(Type.Object({ name: Type.String(), datatype: Type.String(), shape: Type.Array(Type.Integer()), data: Type.Array(Type.String()) })),
})

const ModelParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100, description: 'NAME (its default label), or NAME@VERSION / NAME@LABEL' }),
  version: Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: 'a version number or a label' })),
})
type ModelParams = Static<typeof ModelParams>
const MODEL_PATHS = ['/v2/models/:name', '/v2/models/:name/versions/:version'] as const

export const oipRoutes: FastifyPluginAsyncTypebox<OipRoutesOptions> = async (app, opts) => {
  const { models, jobs, pixelLimits, maxImageBytes, maxImages, maxWaitSeconds, authMode, verifier } = opts
  app.setErrorHandler(oipErrorHandler)

  // Probes and server metadata stay open, like /healthz and /readyz.
  app.get('/v2', {
    schema: { tags: ['open-inference'], summary: 'OIP server metadata', response: { 200: Type.Object({ name: Type.String(), version: Type.String(), extensions: Type.Array(Type.String()) }) } },
  }, async () => ({ name: 'hivesight', version: opts.serverVersion ?? '0.1.0', extensions: ['classification'] }))
  app.get('/v2/health/live', {
    schema: { tags: ['open-inference'], summary: 'OIP server live', response: { 200: Type.Object({ live: Type.Boolean() }) } },
  }, async () => ({ live: true }))
  app.get('/v2/health/ready', {
    schema: { tags: ['open-inference'], summary: 'OIP server ready: the coordinator is ready and its default model version is ready', response: { 200: Type.Object({ ready: Type.Boolean() }), 503: Type.Object({ ready: Type.Boolean() }) } },
  }, async (_req, reply) => {
    const ready = (await opts.ready().catch(() => false)) && (await models.find().then((v) => v.state === 'ready', () => false))
    return reply.code(ready ? 200 : 503).send({ ready })
  })

  // Typed like its parent: a plain async plugin would lose the TypeBox type provider.
  const authenticated: FastifyPluginAsyncTypebox = async (api) => {
    requireApiKey(api, authMode, verifier)
    await limitPerKey(api, authMode, opts.rateLimitPerMinute)
    // Base64 inflates by 4/3; the images are checked one by one after parsing.
    const bodyLimit = Math.min(64 * 1024 * 1024, Math.ceil((maxImageBytes * 4) / 3) * maxImages + 64 * 1024)

    for (const path of MODEL_PATHS) {
      api.get(path, {
        schema: { tags: ['open-inference'], summary: 'OIP model metadata', params: ModelParams, response: { 200: ModelMetadata, 400: OipError, 404: OipError } },
      }, async (req) => metadataOf(models, req.params))

      // The spec: 200 when ready, a 4xx when not (Triton answers 400).
      api.get(`${path}/ready`, {
        schema: { tags: ['open-inference'], summary: 'OIP model ready: 200 if the version can run jobs now, else 400', params: ModelParams, response: { 200: ModelReady, 400: Type.Union([ModelReady, OipError]), 404: OipError } },
      }, async (req, reply) => {
        const version = await models.find(selectorOf(req.params).selector)
        const ready = version.state === 'ready'
        return reply.code(ready ? 200 : 400).send({ name: version.name, ready })
      })

      api.post(`${path}/infer`, {
        bodyLimit,
        schema: {
          tags: ['open-inference'],
          summary: 'OIP inference: one BYTES input of base64 image files; the classification output holds "score:index:label" strings, [images, k]',
          description: 'Request output {"name": "classification", "parameters": {"classification": k}} for the top k (at most 5; default 5). One job per image; all are awaited.',
          params: ModelParams, body: InferRequest,
          response: { 200: InferResponse, 400: OipError, 404: OipError, 409: OipError, 413: OipError, 503: OipError },
        },
      }, async (req, reply) => {
        const { name, selector } = selectorOf(req.params)
        const k = requestedTopK(req.body.outputs)
        const images = imagesOf(req.body.inputs, maxImages, maxImageBytes, pixelLimits)
        const signal = abortOnClose(reply)
        const resolved = await models.find(selector)
        const { response } = await jobs.submit({
          images, priority: 0, owner: req.principal?.keyId ?? null, model: selector, volunteersAllowed: volunteersAllowed(req, opts.volunteerJobs),
        })
        const done = await Promise.all(response.jobs.map((j) => jobs.getWhenFinished(j.id, scopeOf(req), maxWaitSeconds * 1000, signal)))
        return inferResponse(done, { id: req.body.id, name, k, resolved, classesOf: classIndex(models, resolved), maxWaitSeconds })
      })
    }
  }
  await app.register(authenticated)
}

/** The URL's model: `/versions/V` or NAME@V (not both), as a ModelLookup selector. */
function selectorOf(params: ModelParams): { name: string; selector: string } {
  const [name = '', tag] = params.name.split('@', 2)
  if (params.version === undefined) return { name, selector: params.name }
  if (tag !== undefined) throw new AppError('BAD_REQUEST', 'give the version either in the path (/versions/V) or as NAME@V, not both')
  return { name, selector: `${name}@${params.version}` }
}

async function metadataOf(models: ModelLookup, params: ModelParams): Promise<Static<typeof ModelMetadata>> {
  const version = await models.find(selectorOf(params).selector)
  const model = (await models.list()).find((m) => m.name === version.name)
  const pinned = params.version !== undefined || params.name.includes('@')
  const versions = pinned ? [String(version.version)] : (model?.versions ?? []).filter((v) => v.state === 'ready').map((v) => String(v.version))
  return {
    name: version.name, versions, platform: 'tensorflowjs',
    inputs: [{ name: 'image', datatype: 'BYTES', shape: [-1] }],
    // [images, k]: one row of "score:index:label" strings per image.
    outputs: [{ name: 'classification', datatype: 'BYTES', shape: [-1, -1] }],
    parameters: {
      version: String(version.version), state: version.state, format: version.descriptor.format,
      input_size: version.descriptor.preprocessing.inputSize, class_count: version.classes.length, max_classification: TOP,
    },
  }
}

function requestedTopK(outputs: InferRequest['outputs']): number {
  if (!outputs || outputs.length === 0) return TOP
  const unknown = outputs.find((o) => o.name !== 'classification')
  if (unknown) throw new AppError('BAD_REQUEST', `unexpected inference output '${unknown.name}': this model's only output is 'classification'`)
  const raw = outputs[0]!.parameters?.classification
  if (raw === undefined) return TOP
  // Fastify's coercion may have turned the number into a string (the parameter value type is a union).
  const k = Number(raw)
  if (!Number.isInteger(k) || k < 1) throw new AppError('BAD_REQUEST', `the classification parameter must be a positive integer, not ${JSON.stringify(raw)}`)
  return Math.min(k, TOP)
}

function imagesOf(inputs: InferRequest['inputs'], maxImages: number, maxImageBytes: number, pixelLimits: PixelLimits): UploadedImage[] {
  if (inputs.length !== 1) throw new AppError('BAD_REQUEST', `this model takes one input ('image'), not ${inputs.length}`)
  const input = inputs[0]!
  if (input.datatype !== 'BYTES') throw new AppError('BAD_REQUEST', `input '${input.name}' has datatype ${input.datatype}; it must be BYTES: base64-encoded image files`)
  const data = flatten(input.data, input.name, 0)
  const expected = input.shape.reduce((n, d) => n * d, 1)
  if (data.length !== expected) throw new AppError('BAD_REQUEST', `input '${input.name}' has shape [${input.shape.join(', ')}] (${expected} elements) but ${data.length} data elements`)
  if (data.length === 0) throw new AppError('NO_IMAGE', `input '${input.name}' holds no image`)
  if (data.length > maxImages) throw new AppError('TOO_MANY_IMAGES', `at most ${maxImages} images per request, not ${data.length}`)
  return data.map((b64, i) => imageFromBase64(b64, `input '${input.name}' element ${i}`, maxImageBytes, pixelLimits))
}

function flatten(data: unknown[], name: string, depth: number): string[] {
  if (depth > TENSOR_DEPTH) throw new AppError('BAD_REQUEST', `input '${name}' is nested deeper than its shape allows`)
  return data.flatMap((el) => {
    if (typeof el === 'string') return [el]
    if (Array.isArray(el)) return flatten(el, name, depth + 1)
    throw new AppError('BAD_REQUEST', `input '${name}' must hold strings (base64-encoded image files), not ${typeof el}`)
  })
}

/** Class id or label → position in the version's labels; versions other than the resolved one (a canary) are read on demand. */
function classIndex(models: ModelLookup, resolved: ResolvedVersion): (version: number) => Promise<Map<string, number>> {
  const cache = new Map<number, Promise<Map<string, number>>>()
  const indexOf = (v: ResolvedVersion) => {
    const index = new Map<string, number>()
    v.classes.forEach((c, i) => {
      if (!index.has(c.name)) index.set(c.name, i)
      index.set(c.id, i)
    })
    return index
  }
  cache.set(resolved.version, Promise.resolve(indexOf(resolved)))
  return (version) => {
    let index = cache.get(version)
    if (!index) {
      index = models.find(`${resolved.name}@${version}`).then(indexOf, () => new Map<string, number>())
      cache.set(version, index)
    }
    return index
  }
}

async function inferResponse(
  jobs: ClassifiedJob[],
  ctx: { id: string | undefined; name: string; k: number; resolved: ResolvedVersion; classesOf: (version: number) => Promise<Map<string, number>>; maxWaitSeconds: number },
): Promise<Static<typeof InferResponse>> {
  const waiting = jobs.filter((j) => !isFinal(j))
  if (waiting.length > 0) {
    throw new AppError('SERVICE_UNAVAILABLE', `${waiting.length} of ${jobs.length} images did not finish within ${ctx.maxWaitSeconds} s (jobs ${waiting.map((j) => j.id).join(', ')}; GET /api/v1/jobs/{id} has them)`, { retryAfter: 1 })
  }
  const results = jobs.map((j, i) => resultOf(j, `input element ${i}`))
  // A model with fewer than k classes reports fewer; every row must have the same length.
  const k = Math.min(ctx.k, ...results.map((r) => r.predictions.length))
  const data: string[] = []
  for (const r of results) {
    const index = await ctx.classesOf(r.model.version)
    for (const p of r.predictions.slice(0, k)) data.push(`${p.score}:${index.get(p.wnid) ?? index.get(p.label) ?? -1}:${p.label}`)
  }
  const versions = [...new Set(results.map((r) => r.model.version))]
  return {
    model_name: ctx.name,
    model_version: String(versions[0] ?? ctx.resolved.version),
    id: ctx.id ?? randomUUID(),
    // Images of one request may run on two versions while a label has a canary.
    parameters: { job_ids: jobs.map((j) => j.id).join(','), ...(versions.length > 1 ? { model_versions: versions.join(',') } : {}) },
    outputs: [{ name: 'classification', datatype: 'BYTES', shape: [jobs.length, k], data }],
  }
}

// The spec's errors are 400 "typically": bad images and bad tensors alike; auth, 404, 409, 429 and 503 keep theirs.
const KEPT_STATUSES = new Set([401, 403, 404, 409, 429])

function oipErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const failure = failureOf(err, req)
  const status = err instanceof AppError && failure.status < 500 && !KEPT_STATUSES.has(failure.status) ? 400 : failure.status
  if (failure.retryAfter !== undefined || status === 503) reply.header('retry-after', String(failure.retryAfter ?? 1))
  return reply.code(status).type('application/json').send({ error: failure.message })
}
