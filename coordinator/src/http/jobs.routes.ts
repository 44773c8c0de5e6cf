import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type {} from '@fastify/multipart' // request.parts() and isMultipart()
import { JobPage, JobStatus, JobView, Problem, SubmitResponse } from '@hivesight/protocol'
import rateLimit from '@fastify/rate-limit'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { AppError } from '../errors/app-errors.ts'
import { inspectImage, type PixelLimits } from '../images/image-inspector.ts'
import type { ApiKeyVerifier } from '../auth/api-keys.ts'
import type { JobService, Scope, UploadedImage } from '../jobs/job-service.ts'
import { requireApiKey, type AuthMode } from './auth.ts'

export interface JobsRoutesOptions {
  jobs: JobService
  maxWaitSeconds: number
  pixelLimits: PixelLimits
  authMode: AuthMode
  verifier: ApiKeyVerifier
  rateLimitPerMinute: number
}

/** What the caller may see: its own key's jobs, or all of them in open mode. */
const scopeOf = (req: FastifyRequest): Scope => (req.principal ? { owner: req.principal.keyId } : 'all')

const PRIORITY = { minimum: -1000, maximum: 1000 }

/** The original name is only echoed back: no path, no control characters, bounded length. */
function cleanFilename(name: string | undefined): string | null {
  if (!name) return null
  // eslint-disable-next-line no-control-regex
  const base = name.split(/[\\/]/).pop()!.replace(/[\u0000-\u001f\u007f]/g, '').trim()
  return base ? base.slice(0, 255) : null
}

export const jobsRoutes: FastifyPluginAsyncTypebox<JobsRoutesOptions> = async (app, { jobs, maxWaitSeconds, pixelLimits, authMode, verifier, rateLimitPerMinute }) => {
  requireApiKey(app, authMode, verifier)
  if (authMode === 'keys') {
    // Per key, after authentication (preHandler), so an unknown key cannot use up someone else's budget.
    await app.register(rateLimit, {
      hook: 'preHandler',
      max: rateLimitPerMinute,
      timeWindow: 60_000,
      keyGenerator: (req) => req.principal?.keyId ?? req.ip,
      errorResponseBuilder: (_req, ctx) => new AppError('RATE_LIMITED', `more than ${ctx.max} requests a minute for this API key; retry in ${Math.ceil(ctx.ttl / 1000)} s`, { retryAfter: Math.ceil(ctx.ttl / 1000) }),
    })
  }

  app.post('/api/v1/jobs', {
    schema: {
      tags: ['jobs'], summary: 'Submit images for classification (one job per image)',
      consumes: ['multipart/form-data'],
      headers: Type.Object({
        'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e]+$', description: 'Retrying with the same key and content returns the same jobs (kept 24 h)' })),
      }),
      querystring: Type.Object({ priority: Type.Optional(Type.Integer(PRIORITY)) }),
      response: { 202: SubmitResponse, 400: Problem, 409: Problem, 413: Problem, 415: Problem, 422: Problem, 503: Problem },
    },
  }, async (req, reply) => {
    if (!req.isMultipart()) throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'send the images as multipart/form-data, e.g. curl -F image=@cat.jpg')
    const idempotencyKey = req.headers['idempotency-key']
    const done = idempotencyKey ? jobs.beginIdempotent(idempotencyKey, req.principal?.keyId ?? null) : () => undefined
    try {
      return await receive(req, reply, idempotencyKey, req.query.priority)
    } finally {
      done()
    }
  })

  async function receive(req: FastifyRequest, reply: FastifyReply, idempotencyKey: string | undefined, queryPriority: number | undefined) {
    const images: UploadedImage[] = []
    let priority = queryPriority ?? 0
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        const bytes = await part.toBuffer()
        const filename = cleanFilename(part.filename)
        try {
          images.push({ bytes, filename, info: inspectImage(bytes, pixelLimits) })
        } catch (err) {
          if (err instanceof AppError) throw new AppError(err.code, `${filename ?? `file ${images.length + 1}`}: ${err.message}`)
          throw err
        }
      } else if (part.fieldname === 'priority') {
        const n = Number(part.value)
        if (!Number.isInteger(n) || n < PRIORITY.minimum || n > PRIORITY.maximum) {
          throw new AppError('BAD_REQUEST', `priority must be an integer from ${PRIORITY.minimum} to ${PRIORITY.maximum}`)
        }
        priority = n
      }
    }
    if (images.length === 0) throw new AppError('NO_IMAGE', 'the request holds no image: send at least one file part, e.g. curl -F image=@cat.jpg')
    const { response, replayed } = await jobs.submit({ images, priority, idempotencyKey, owner: req.principal?.keyId ?? null })
    if (response.jobs.length === 1) reply.header('location', response.jobs[0]!.url)
    if (replayed) reply.header('idempotent-replayed', 'true')
    return reply.code(202).send(response)
  }

  app.get('/api/v1/jobs/:id', {
    schema: {
      tags: ['jobs'], summary: 'One job; with ?wait=N, wait up to N seconds for it to finish',
      params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
      querystring: Type.Object({ wait: Type.Optional(Type.Number({ minimum: 0, maximum: maxWaitSeconds })) }),
      response: { 200: JobView, 404: Problem },
    },
  }, async (req, reply) => {
    const wait = req.query.wait ?? 0
    if (wait <= 0) return jobs.get(req.params.id, scopeOf(req))
    // Stop waiting when the client goes away. (The request's own 'close' fires once its body is read.)
    const abort = new AbortController()
    reply.raw.once('close', () => abort.abort())
    return jobs.getWhenFinished(req.params.id, scopeOf(req), wait * 1000, abort.signal)
  })

  app.delete('/api/v1/jobs/:id', {
    schema: {
      tags: ['jobs'], summary: 'Cancel a queued or running job (a running one is dropped by its worker)',
      params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
      response: { 200: JobView, 404: Problem, 409: Problem },
    },
  }, async (req) => jobs.cancel(req.params.id, scopeOf(req)))

  app.post('/api/v1/jobs/:id/retry', {
    schema: {
      tags: ['jobs'], summary: 'Queue a dead job again with a fresh set of attempts',
      params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
      response: { 200: JobView, 404: Problem, 409: Problem },
    },
  }, async (req) => jobs.retry(req.params.id, scopeOf(req)))

  app.get('/api/v1/jobs', {
    schema: {
      tags: ['jobs'], summary: 'Jobs, newest first, with cursor pagination',
      querystring: Type.Object({
        limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
        cursor: Type.Optional(Type.String({ pattern: '^[0-9a-f-]{36}$', description: 'nextCursor of the previous page' })),
        status: Type.Optional(JobStatus),
      }),
      response: { 200: JobPage, 400: Problem },
    },
  }, async (req) => jobs.list(scopeOf(req), { limit: req.query.limit, cursor: req.query.cursor, status: req.query.status }))
}
