import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type {} from '@fastify/multipart' // request.parts() and isMultipart()
import { JobPage, JobStatus, JobView, Problem, SubmitResponse } from '@hivesight/protocol'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { AppError } from '../errors/app-errors.ts'
import type { PixelLimits } from '../images/image-inspector.ts'
import { MODEL_SELECTOR, PRIORITY, readUpload, type UploadLimits } from './upload-reader.ts'
import type { ApiKeyVerifier } from '../auth/api-keys.ts'
import type { JobService } from '../jobs/job-service.ts'
import { requireApiKey, type AuthMode } from './auth.ts'
import { limitPerKey, scopeOf, volunteersAllowed } from './compat-common.ts'

export interface JobsRoutesOptions {
  jobs: JobService
  maxWaitSeconds: number
  pixelLimits: PixelLimits
  maxImageBytes: number
  maxImages: number
  authMode: AuthMode
  verifier: ApiKeyVerifier
  rateLimitPerMinute: number
  /** Whose jobs volunteer tabs may answer (config VOLUNTEER_JOBS). */
  volunteerJobs: 'per-key' | 'all' | 'none'
}


export const jobsRoutes: FastifyPluginAsyncTypebox<JobsRoutesOptions> = async (app, { jobs, maxWaitSeconds, pixelLimits, maxImageBytes, maxImages, authMode, verifier, rateLimitPerMinute, volunteerJobs }) => {
  requireApiKey(app, authMode, verifier)
  await limitPerKey(app, authMode, rateLimitPerMinute)

  const limits: UploadLimits = { pixelLimits, maxImageBytes, maxImages }
  const idempotencyHeader = Type.Object({
    'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e]+$', description: 'Retrying with the same key and content returns the same jobs (kept 24 h)' })),
  })
  // JSON submits carry base64 images; multipart uploads are bounded by the multipart limits instead.
  const bodyLimit = Math.min(64 * 1024 * 1024, Math.ceil((maxImageBytes * 4) / 3) * maxImages + 64 * 1024)

  /**
   * Reads and stores an upload. Copies with one Idempotency-Key may be received at the same time: on a lossy
   * link the first copy can sit half-received on a dead connection for a minute, and a retry must not wait
   * for it. The first copy to commit makes the jobs; the others are answered with them (see submit).
   */
  async function submitFrom(req: FastifyRequest, query: { priority?: number; model?: string }, idempotencyKey: string | undefined, onlyOne = false) {
    const owner = req.principal?.keyId ?? null
    const { images, priority, model } = await readUpload(req, query.priority, limits, query.model)
    if (onlyOne && images.length !== 1) throw new AppError('BAD_REQUEST', 'classify takes exactly one image; use POST /api/v1/jobs for several')
    return jobs.submit({ images, priority, idempotencyKey, owner, volunteersAllowed: volunteersAllowed(req, volunteerJobs), model })
  }

  app.post('/api/v1/jobs', {
    bodyLimit,
    schema: {
      tags: ['jobs'], summary: 'Submit images for classification (one job per image): multipart/form-data, or JSON with base64 images',
      consumes: ['multipart/form-data', 'application/json'],
      headers: idempotencyHeader,
      querystring: Type.Object({ priority: Type.Optional(Type.Integer(PRIORITY)), model: Type.Optional(Type.String(MODEL_SELECTOR)) }),
      response: { 202: SubmitResponse, 400: Problem, 404: Problem, 409: Problem, 413: Problem, 415: Problem, 422: Problem, 503: Problem },
    },
  }, async (req, reply) => {
    const { response, replayed } = await submitFrom(req, req.query, req.headers['idempotency-key'])
    if (response.jobs.length === 1) reply.header('location', response.jobs[0]!.url)
    if (replayed) reply.header('idempotent-replayed', 'true')
    return reply.code(202).send(response)
  })

  app.post('/api/v1/classify', {
    bodyLimit,
    schema: {
      tags: ['jobs'], summary: 'Classify one image and wait for the answer: 200 with the finished job, or 202 with the job if it takes longer than ?timeout',
      consumes: ['multipart/form-data', 'application/json'],
      headers: idempotencyHeader,
      querystring: Type.Object({
        timeout: Type.Number({ minimum: 0, maximum: maxWaitSeconds, default: Math.min(30, maxWaitSeconds) }),
        priority: Type.Optional(Type.Integer(PRIORITY)),
        model: Type.Optional(Type.String(MODEL_SELECTOR)),
      }),
      response: { 200: JobView, 202: JobView, 400: Problem, 404: Problem, 409: Problem, 413: Problem, 415: Problem, 422: Problem, 503: Problem },
    },
  }, async (req, reply) => {
    const { response } = await submitFrom(req, req.query, req.headers['idempotency-key'], true)
    const id = response.jobs[0]!.id
    const abort = new AbortController()
    reply.raw.once('close', () => abort.abort())
    const job = await jobs.getWhenFinished(id, scopeOf(req), req.query.timeout * 1000, abort.signal)
    const final = job.status !== 'queued' && job.status !== 'running'
    if (!final) reply.header('location', `/api/v1/jobs/${id}`)
    return reply.code(final ? 200 : 202).send(job)
  })

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
