import { createHash } from 'node:crypto'
import { TERMINAL_STATUSES, type JobView, type ModelRef, type Prediction, type SubmitResponse } from '@hivesight/protocol'
import rateLimit from '@fastify/rate-limit'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ApiKeyVerifier } from '../auth/api-keys.ts'
import { isUnavailable } from '../db/create-db.ts'
import { AppError } from '../errors/app-errors.ts'
import { inspectImage, type PixelLimits } from '../images/image-inspector.ts'
import type { Scope, UploadedImage } from '../jobs/job-service.ts'
import type { AuthMode } from './auth.ts'

// What the Hugging Face and Open Inference Protocol plugins (hf.routes.ts, oip.routes.ts) share.

/** The part of a job these APIs read; JobService's JobView has it. */
export type ClassifiedJob = Pick<JobView, 'id' | 'status' | 'result' | 'error'>

/** What the plugins call on the job service (JobService satisfies it structurally). */
export interface ClassifyJobs {
  submit(req: { images: UploadedImage[]; priority: number; owner: string | null; model?: string; idempotencyKey?: string; volunteersAllowed?: boolean }): Promise<{ response: SubmitResponse; replayed: boolean }>
  getWhenFinished(id: string, scope: Scope, waitMs: number, signal?: AbortSignal): Promise<ClassifiedJob>
}

export interface CompatRoutesOptions {
  jobs: ClassifyJobs
  pixelLimits: PixelLimits
  maxImageBytes: number
  /** How long a request waits for its job(s) before answering 503 (the job keeps running). */
  maxWaitSeconds: number
  authMode: AuthMode
  verifier: ApiKeyVerifier
  /** Per API key, keys mode only; absent: no limit of this plugin's own. */
  rateLimitPerMinute?: number
  /** Whose jobs volunteer tabs may answer (config VOLUNTEER_JOBS); absent: 'none'. */
  volunteerJobs?: 'per-key' | 'all' | 'none'
}

export const scopeOf = (req: FastifyRequest): Scope => (req.principal ? { owner: req.principal.keyId } : 'all')

export function volunteersAllowed(req: FastifyRequest, policy: CompatRoutesOptions['volunteerJobs']): boolean {
  return policy === 'all' || (policy === 'per-key' && req.principal?.volunteers === true)
}

/** Same per-key budget rule as the native API (after authentication, so an unknown key spends nobody's). */
export async function limitPerKey(app: FastifyInstance, authMode: AuthMode, perMinute: number | undefined): Promise<void> {
  if (authMode !== 'keys' || perMinute === undefined) return
  await app.register(rateLimit, {
    hook: 'preHandler',
    max: perMinute,
    timeWindow: 60_000,
    keyGenerator: (req) => req.principal?.keyId ?? req.ip,
    errorResponseBuilder: (_req, ctx) => new AppError('RATE_LIMITED', `more than ${ctx.max} requests a minute for this API key; retry in ${Math.ceil(ctx.ttl / 1000)} s`, { retryAfter: Math.ceil(ctx.ttl / 1000) }),
  })
}

/** Stops waiting for jobs when the client goes away. (The request's own 'close' fires once its body is read.) */
export function abortOnClose(reply: FastifyReply): AbortSignal {
  const abort = new AbortController()
  reply.raw.once('close', () => abort.abort())
  return abort.signal
}

export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/

/** Base64 (standard or URL-safe, line breaks and a `data:…;base64,` prefix tolerated) → the image, checked. */
export function imageFromBase64(text: string, what: string, maxImageBytes: number, pixelLimits: PixelLimits): UploadedImage {
  const b64 = text.replace(/^data:[^,]{0,200};base64,/, '').replace(/\s+/g, '')
  if (b64.length === 0 || b64.length % 4 === 1 || !BASE64.test(b64)) throw new AppError('BAD_REQUEST', `${what} is not base64`)
  // Refused before decoding: a huge string must not become a huge buffer first.
  if (Math.floor((b64.length * 3) / 4) - 2 > maxImageBytes) throw new AppError('IMAGE_TOO_LARGE', `${what} is larger than ${maxImageBytes} bytes`)
  const bytes = Buffer.from(b64, 'base64')
  if (bytes.length > maxImageBytes) throw new AppError('IMAGE_TOO_LARGE', `${what} is larger than ${maxImageBytes} bytes`)
  return checkedImage(bytes, what, pixelLimits)
}

export function checkedImage(bytes: Buffer, what: string, pixelLimits: PixelLimits): UploadedImage {
  try {
    return { bytes, filename: null, info: inspectImage(bytes, pixelLimits) }
  } catch (err) {
    if (err instanceof AppError) throw new AppError(err.code, `${what}: ${err.message}`)
    throw err
  }
}

/** A job that ended without predictions; `status` is the HTTP status to answer with. */
export class JobOutcomeError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message)
  }
}

// A worker's decode errors are the image's fault (the header passed, the pixels did not).
const IMAGE_FAULTS: Record<string, 'IMAGE_INVALID' | 'UNSUPPORTED_IMAGE_TYPE'> = { IMAGE_DECODE_FAILED: 'IMAGE_INVALID', IMAGE_UNSUPPORTED: 'UNSUPPORTED_IMAGE_TYPE' }

export const isFinal = (job: ClassifiedJob): boolean => TERMINAL_STATUSES.includes(job.status)

/** The predictions of a finished job, or the error its end means for the client. */
export function resultOf(job: ClassifiedJob, what: string): { predictions: Prediction[]; model: ModelRef } {
  if (job.status === 'succeeded' && job.result) return job.result
  const reason = job.error ? `${job.error.code}: ${job.error.message}` : 'no reason recorded'
  const fault = job.error ? IMAGE_FAULTS[job.error.code] : undefined
  if (job.status === 'failed' && fault) throw new AppError(fault, `${what} could not be classified (${reason})`)
  if (job.status === 'canceled') throw new JobOutcomeError(500, 'JOB_CANCELED', `${what}: job ${job.id} was canceled`)
  throw new JobOutcomeError(500, 'JOB_FAILED', `${what}: job ${job.id} is ${job.status} (${reason}); POST /api/v1/jobs/${job.id}/retry may help`)
}

/**
 * Jobs whose request stopped waiting (503). Clients retry a 503 with the same image (the Hugging Face JS
 * client at once, forever): the retry waits for the same job instead of queueing the image again.
 * This coordinator's memory only; a retry that reaches another coordinator queues a new job.
 */
export class ParkedJobs {
  private readonly jobs = new Map<string, { id: string; until: number }>()
  constructor(private readonly ttlMs = 10 * 60_000, private readonly max = 10_000) {}

  static keyOf(owner: string | null, selector: string, bytes: Buffer): string {
    return createHash('sha256').update(`${owner ?? 'open'}\n${selector}\n`).update(bytes).digest('hex')
  }

  find(key: string): string | undefined {
    const parked = this.jobs.get(key)
    if (parked && parked.until > Date.now()) return parked.id
    this.jobs.delete(key)
    return undefined
  }

  park(key: string, id: string): void {
    this.jobs.delete(key)
    if (this.jobs.size >= this.max) this.jobs.delete(this.jobs.keys().next().value!)
    this.jobs.set(key, { id, until: Date.now() + this.ttlMs })
  }

  release(key: string): void {
    this.jobs.delete(key)
  }
}

export interface Failure {
  status: number
  code: string
  message: string
  retryAfter: number | undefined
}

/** Any error of these routes as status, code, message and Retry-After; each plugin renders it in its API's shape. */
export function failureOf(err: FastifyError, req: FastifyRequest): Failure {
  if (err instanceof AppError) return { status: err.status, code: err.code, message: err.message, retryAfter: err.retryAfter }
  if (err instanceof JobOutcomeError) return { status: err.status, code: err.code, message: err.message, retryAfter: undefined }
  if (err.validation) return { status: 400, code: 'VALIDATION_FAILED', message: `${err.validationContext ?? 'request'} ${err.message}`, retryAfter: undefined }
  const status = err.statusCode ?? 500
  if (status >= 400 && status < 500) return { status, code: err.code ?? 'BAD_REQUEST', message: err.message, retryAfter: undefined }
  if (isUnavailable(err)) {
    req.log.warn({ err }, 'the database is unavailable')
    return { status: 503, code: 'SERVICE_UNAVAILABLE', message: 'the database is unreachable right now; retry in a few seconds', retryAfter: 2 }
  }
  req.log.error({ err }, 'unhandled error')
  return { status: 500, code: 'INTERNAL', message: 'something went wrong on our side; the request id is in the logs', retryAfter: undefined }
}
