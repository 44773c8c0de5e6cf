import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { Compile } from 'typebox/compile'
import { AppError } from '../errors/app-errors.ts'
import type { PixelLimits } from '../images/image-inspector.ts'
import type { UploadedImage } from '../jobs/job-service.ts'
import { requireApiKey } from './auth.ts'
import {
  abortOnClose, checkedImage, failureOf, imageFromBase64, isFinal, limitPerKey, ParkedJobs, pause, resultOf, scopeOf,
  volunteersAllowed, type CompatRoutesOptions,
} from './compat-common.ts'

/**
 * The Hugging Face Inference API's image-classification call, for its clients (@huggingface/inference with
 * `endpointUrl`, huggingface_hub, curl): POST the image, get `[{label, score}]`. Browsers may call it from
 * any origin (no credentials; the key travels in Authorization: Bearer).
 */
declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: the app-wide @fastify/cors skips the route (it reads this per route). */
    cors?: false
  }
}

/** No ModelLookup: submit resolves the selector (404 unknown, 503 not ready) and nothing else here needs one. */
export interface HfRoutesOptions extends CompatRoutesOptions {
  /**
   * A 503 answered without waiting (model not ready, shutting down) is held this long first: the HF JS
   * client retries a 503 at once and without end, and would otherwise spin. Default 1000 ms.
   */
  notReadyHoldMs?: number
}

const PATH = '/api/v1/models/:name'
// Workers report the top 5; HF answers min(top_k, what there is) rather than refusing a larger top_k.
const TOP = 5
// user-agent: the HF JS client sets it, and a browser that honours that asks for it in the preflight.
const ALLOWED_HEADERS = 'authorization, content-type, x-api-key, idempotency-key, user-agent, x-wait-for-model, x-use-cache'
const ACCEPTED_TYPE = /^(image\/[a-z0-9.+-]+|application\/octet-stream|application\/json)\s*(;|$)/i
// Our own CORS for these routes; the app-wide @fastify/cors (listed origins only) must leave them alone.
const NO_GLOBAL_CORS = { cors: false } as const

const HfPrediction = Type.Object({ label: Type.String(), score: Type.Number() })
const HfError = Type.Object({
  error: Type.String(),
  estimated_time: Type.Optional(Type.Number({ description: 'seconds before a retry may succeed (503 only)' })),
})
const HfJsonBody = Type.Object({
  inputs: Type.String({ minLength: 1, description: 'the image file, base64' }),
  parameters: Type.Optional(Type.Object({ top_k: Type.Optional(Type.Integer({ minimum: 1 })) })),
})
const isJsonBody = Compile(HfJsonBody)
// Documentation only: a raw body is a Buffer, which a JSON schema cannot describe; it is checked by inspectImage.
const ImageFile = Type.Unknown({ description: 'the image file: JPEG, PNG, WebP or GIF (decided from its bytes)' })

export const hfRoutes: FastifyPluginAsyncTypebox<HfRoutesOptions> = async (app, opts) => {
  const { jobs, pixelLimits, maxImageBytes, maxWaitSeconds, authMode, verifier } = opts
  const holdMs = opts.notReadyHoldMs ?? 1000
  const parked = new ParkedJobs()

  app.setErrorHandler(hfErrorHandler)
  // On every answer of these routes, errors included: a browser cannot read a response without it.
  app.addHook('onSend', async (_req, reply) => {
    reply.header('access-control-allow-origin', '*')
    reply.header('access-control-expose-headers', 'retry-after, x-request-id')
  })
  // Outside the authenticated scope: a preflight never carries the Authorization header.
  app.options(PATH, { config: NO_GLOBAL_CORS, schema: { hide: true } }, async (_req, reply) => {
    reply.header('access-control-allow-methods', 'POST, OPTIONS')
    reply.header('access-control-allow-headers', ALLOWED_HEADERS)
    reply.header('access-control-max-age', '600')
    return reply.code(204).send()
  })

  // Typed like its parent: a plain async plugin would lose the TypeBox type provider.
  const authenticated: FastifyPluginAsyncTypebox = async (api) => {
    requireApiKey(api, authMode, verifier)
    await limitPerKey(api, authMode, opts.rateLimitPerMinute)
    // Raw bodies of any type (and of none: fetch sends an untyped Blob without Content-Type); which types
    // are accepted is decided before the body is read, in refuseOtherTypes.
    api.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxImageBytes }, (_req, body, done) => done(null, body))
    api.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: Math.ceil((maxImageBytes * 4) / 3) + 64 * 1024 }, api.getDefaultJsonParser('error', 'error'))

    api.post(PATH, {
      config: NO_GLOBAL_CORS,
      onRequest: refuseOtherTypes,
      schema: {
        tags: ['hugging-face'],
        summary: 'Hugging Face Inference API image classification: the image as the body, [{label, score}] best first',
        description: 'Point a Hugging Face client at it with endpointUrl = this URL (e.g. `new InferenceClient(key, { endpointUrl })`). '
          + 'The body is the image file (any image/* or application/octet-stream type), or JSON {"inputs": "<base64>", "parameters": {"top_k": n}}. '
          + 'Answers 503 {"error", "estimated_time"} with Retry-After while the model version is not ready or the image is still queued after the wait; '
          + 'retrying the same image keeps waiting for the same job.',
        params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100, description: 'NAME, NAME@VERSION or NAME@LABEL (%40 for @ works too)' }) }),
        querystring: Type.Object({ top_k: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: `how many labels (at most ${TOP} are known; default ${TOP})` })) }),
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e]+$' })) }),
        body: { content: { 'image/*': { schema: ImageFile }, 'application/octet-stream': { schema: ImageFile }, 'application/json': { schema: HfJsonBody } } },
        response: { 200: Type.Array(HfPrediction), 400: HfError, 401: HfError, 404: HfError, 409: HfError, 413: HfError, 415: HfError, 422: HfError, 429: HfError, 503: HfError },
      },
    }, async (req, reply) => {
      const selector = req.params.name
      const { image, topK } = readInput(req.body, req.query.top_k, maxImageBytes, pixelLimits)
      const signal = abortOnClose(reply)
      const owner = req.principal?.keyId ?? null
      const key = ParkedJobs.keyOf(owner, selector, image.bytes)
      let id = parked.find(key)
      if (!id) {
        try {
          const { response } = await jobs.submit({
            images: [image], priority: 0, owner, model: selector, idempotencyKey: req.headers['idempotency-key'], volunteersAllowed: volunteersAllowed(req, opts.volunteerJobs),
          })
          id = response.jobs[0]!.id
        } catch (err) {
          if (err instanceof AppError && err.status === 503) await pause(holdMs, signal)
          throw err
        }
      }
      let job
      try {
        job = await jobs.getWhenFinished(id, scopeOf(req), maxWaitSeconds * 1000, signal)
      } catch (err) {
        parked.release(key) // the next retry queues the image afresh
        throw err
      }
      if (!isFinal(job)) {
        parked.park(key, id)
        throw new AppError('MODEL_NOT_READY', `job ${id} did not finish within ${maxWaitSeconds} s; retrying with the same image keeps waiting for it`, { retryAfter: 1 })
      }
      parked.release(key)
      return resultOf(job, 'the image').predictions.slice(0, topK).map(({ label, score }) => ({ label, score }))
    })
  }
  await app.register(authenticated)
}

async function refuseOtherTypes(req: FastifyRequest): Promise<void> {
  const type = req.headers['content-type']
  if (type !== undefined && !ACCEPTED_TYPE.test(type.trim())) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', `${type.split(';')[0]!.slice(0, 100)} is not accepted: send the image file as the body (image/* or application/octet-stream), or JSON {"inputs": "<base64>"}`)
  }
}

function readInput(body: unknown, queryTopK: number | undefined, maxImageBytes: number, pixelLimits: PixelLimits): { image: UploadedImage; topK: number } {
  if (Buffer.isBuffer(body)) return { image: checkedImage(body, 'the image', pixelLimits), topK: queryTopK ?? TOP }
  if (body === undefined || body === null) throw new AppError('NO_IMAGE', 'the request has no body: send the image file, e.g. curl --data-binary @cat.jpg -H "Content-Type: image/jpeg"')
  if (!isJsonBody.Check(body)) throw new AppError('BAD_REQUEST', 'the JSON body must be {"inputs": "<base64 image>", "parameters"?: {"top_k"?: n}}')
  return { image: imageFromBase64(body.inputs, 'inputs', maxImageBytes, pixelLimits), topK: body.parameters?.top_k ?? queryTopK ?? TOP }
}

/** Errors as the HF Inference API shapes them: {"error": "…"}, and for 503 also "estimated_time". */
function hfErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const failure = failureOf(err, req)
  if (failure.status === 503) {
    const seconds = failure.retryAfter ?? 1
    reply.header('retry-after', String(seconds))
    // HF clients recognise a model that is warming up by this wording.
    const error = failure.code === 'MODEL_NOT_READY' ? `Model ${modelNameOf(req)} is currently loading` : failure.message
    return reply.code(503).type('application/json').send({ error, estimated_time: seconds })
  }
  if (failure.retryAfter !== undefined) reply.header('retry-after', String(failure.retryAfter))
  return reply.code(failure.status).type('application/json').send({ error: failure.message })
}

function modelNameOf(req: FastifyRequest): string {
  const params = req.params
  const name = typeof params === 'object' && params !== null && 'name' in params && typeof params.name === 'string' ? params.name : ''
  return name.split('@')[0] || 'the model'
}
