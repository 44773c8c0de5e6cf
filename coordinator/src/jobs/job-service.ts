import { createHash } from 'node:crypto'
import { TERMINAL_STATUSES, type JobStatus, type JobView, type SubmitResponse } from '@hivesight/protocol'
import { newJobId } from './job-ids.ts'
import { durably, type Db } from '../db/create-db.ts'
import * as idemRepo from '../db/idempotency.repository.ts'
import * as imagesRepo from '../db/image.repository.ts'
import * as jobsRepo from '../db/job.repository.ts'
import type { NewJob } from '../db/schema.ts'
import { AppError } from '../errors/app-errors.ts'
import type { ImageInfo } from '../images/image-inspector.ts'
import type { Clock } from './clock.ts'
import type { ClusterSignals } from './cluster-signals.ts'
import type { DispatchPump } from './dispatch-pump.ts'
import { toJobView, type Labeller } from './job-view.ts'
import type { JobMetrics } from './job-metrics.ts'
import type { JobWaiters } from './job-waiters.ts'
import type { Logger } from './logger.ts'
import type { UploadCommitter, UploadOutcome } from './upload-committer.ts'
import type { ResolvedVersion } from '../models/model-lookup.ts'

export interface UploadedImage {
  bytes: Buffer
  filename: string | null
  info: ImageInfo
}

export interface SubmitRequest {
  images: UploadedImage[]
  priority: number
  idempotencyKey?: string
  /** The submitting API key (null in open mode). */
  owner: string | null
  /** Volunteer tabs may answer these jobs (the key, or the deployment, allows it). */
  volunteersAllowed?: boolean
  /** NAME, NAME@VERSION or NAME@LABEL; absent: the default model at its `default` label. */
  model?: string
}

/** What submitting and reading jobs need of the model repository. */
export interface JobModels extends Labeller {
  find(selector?: string): Promise<ResolvedVersion>
  /** Reads the repository again if any of these versions is not known here yet. */
  prime(ids: (string | null)[]): Promise<void>
}

/** Whose jobs a caller sees: one API key's, or (open mode) all. */
export type Scope = { owner: string } | 'all'

export interface SubmitOutcome {
  response: SubmitResponse
  /** true when an earlier request with the same Idempotency-Key and content is answered again. */
  replayed: boolean
}

/** Keys are kept at least this long (the IETF draft suggests 24 h). */
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000
// Long-polls are woken by signals; this re-read only covers one that was lost.
const WAIT_RECHECK_MS = 5_000

/**
 * What is stored of an accepted picture for a model version: by default the upload itself; with the shrink
 * stage (images/image-shrinker.ts), a far too big picture shrunk first, so the database, the dispatch and
 * the page each handle ~40 KB instead of a 12 MP photo's megabytes.
 */
export type StoredImage = (bytes: Buffer, info: ImageInfo, versionId: string) => Promise<{ image: Buffer; contentType: string }>

/** What a client sees of the job lifecycle: submit, read, wait, list, cancel, retry. */
export class JobService {
  private accepting = true

  constructor(
    private readonly db: Db,
    private readonly uploads: UploadCommitter,
    private readonly dispatch: DispatchPump,
    private readonly signals: ClusterSignals,
    private readonly waiters: JobWaiters,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: { maxAttempts: number; stored?: StoredImage },
    private readonly metrics: JobMetrics,
    private readonly label: JobModels,
  ) {}

  /** Shutdown: new uploads get 503 with Retry-After; nothing accepted is affected. */
  stopAccepting(): void {
    this.accepting = false
  }

  /**
   * Stores the jobs, their images and the idempotency key in one transaction (shared with other requests
   * arriving meanwhile): all of them are accepted, or none. One commit makes the upload durable everywhere.
   */
  async submit(req: SubmitRequest): Promise<SubmitOutcome> {
    if (!this.accepting) throw new AppError('SHUTTING_DOWN', 'the coordinator is shutting down; retry in a few seconds', { retryAfter: 5 })
    const version = await this.label.find(req.model)
    if (version.state === 'validating') {
      throw new AppError('MODEL_NOT_READY', `${version.name} version ${version.version} is still being validated on a worker; retry in a few seconds`, { retryAfter: 5 })
    }
    if (version.state === 'failed') {
      throw new AppError('VERSION_NOT_READY', `${version.name} version ${version.version} failed validation (${version.failureReason ?? 'no reason given'}); it cannot run jobs`)
    }
    const fingerprint = req.idempotencyKey ? fingerprintOf(req) : ''
    // Keys are per API key: two clients may pick the same key without seeing each other's jobs.
    const idemKey = req.idempotencyKey ? idempotencyScope(req.idempotencyKey, req.owner) : undefined
    if (idemKey) {
      const earlier = await this.storedKey(idemKey)
      if (earlier) return this.replay(earlier, fingerprint)
    }
    // Before the commit (and after the replay check: a replay stores nothing); the fingerprint is the upload's.
    const stored = await Promise.all(req.images.map((img) => (this.opts.stored ? this.opts.stored(img.bytes, img.info, version.id) : { image: img.bytes, contentType: img.info.contentType })))
    const now = this.clock.now()
    const rows: NewJob[] = req.images.map((img, i) => ({
      id: newJobId(), status: 'queued', priority: req.priority, attempts: 0, max_attempts: this.opts.maxAttempts, lease_token: 0,
      submitted_at: now, available_at: now, filename: img.filename, content_type: stored[i]!.contentType,
      upload_content_type: stored[i]!.contentType === img.info.contentType ? null : img.info.contentType, byte_size: img.bytes.length,
      width: img.info.width, height: img.info.height, owner_key_id: req.owner, volunteers_allowed: req.volunteersAllowed ? 1 : 0,
      model_version_id: version.id,
    }))
    const response: SubmitResponse = {
      jobs: rows.map((r) => ({ id: r.id, status: 'queued', filename: r.filename ?? null, url: `/api/v1/jobs/${r.id}` })),
    }
    let outcome: UploadOutcome
    try {
      outcome = await this.uploads.commit({
        jobs: rows,
        images: rows.map((r, i) => ({ job_id: r.id, bytes: stored[i]!.image })),
        idempotencyKey: idemKey ? { idem_key: idemKey, fingerprint, response_json: JSON.stringify(response), created_at: now } : undefined,
      })
    } catch (err) {
      // A connection lost during COMMIT leaves it unknown whether the jobs exist: a retry with the same
      // Idempotency-Key finds them if they do (images and jobs are one commit, so never one without the other).
      this.log.warn({ err }, 'could not store an upload')
      throw new AppError('SERVICE_UNAVAILABLE', 'the upload could not be stored right now; try again (with the same Idempotency-Key, if you sent one)', { retryAfter: 2 })
    }
    if (!outcome.stored) {
      // Another request stored the same key first (here or on another coordinator): answer as it did.
      const earlier = idemKey ? await this.storedKey(idemKey) : undefined
      if (earlier) return this.replay(earlier, fingerprint)
      throw new AppError('SERVICE_UNAVAILABLE', 'the upload could not be stored right now; try again with the same Idempotency-Key', { retryAfter: 1 })
    }
    this.metrics.imagesAccepted(rows.length)
    // Jobs leased to idle workers in the upload's own commit are on their way already.
    if (outcome.queued > 0) this.dispatch.jobsMayBeQueued()
    return { response, replayed: false }
  }

  private async storedKey(key: string) {
    try {
      return await idemRepo.findKey(this.db.kysely, key)
    } catch (err) {
      this.log.error({ err }, 'could not read an idempotency key')
      throw new AppError('SERVICE_UNAVAILABLE', 'the database is unreachable; nothing was accepted, try again', { retryAfter: 2 })
    }
  }

  private replay(earlier: { fingerprint: string; response_json: string }, fingerprint: string): SubmitOutcome {
    if (earlier.fingerprint !== fingerprint) {
      throw new AppError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for a different upload; use a new key for new content')
    }
    return { response: JSON.parse(earlier.response_json) as SubmitResponse, replayed: true }
  }

  /** Another key's job is reported exactly like a missing one. */
  private async find(id: string, scope: Scope) {
    const row = await jobsRepo.findJob(this.db.kysely, id)
    if (!row || (scope !== 'all' && row.owner_key_id !== scope.owner)) throw new AppError('JOB_NOT_FOUND', `no job with id ${id}`)
    return row
  }

  async get(id: string, scope: Scope): Promise<JobView> {
    const row = await this.find(id, scope)
    await this.label.prime([row.model_version_id])
    return toJobView(row, this.label)
  }

  /** The job now, or as soon as it is final, waiting at most `waitMs`. */
  async getWhenFinished(id: string, scope: Scope, waitMs: number, signal?: AbortSignal): Promise<JobView> {
    // A real-time wait (timers), so the monotonic clock, not the domain clock tests move by hand.
    const deadline = performance.now() + waitMs
    for (;;) {
      const view = await this.get(id, scope)
      const left = deadline - performance.now()
      if (TERMINAL_STATUSES.includes(view.status) || left <= 0 || signal?.aborted) return view
      // Woken by this coordinator's answers and by other coordinators' signals; the cap is a safety net.
      await this.waiters.wait(id, Math.min(left, WAIT_RECHECK_MS), signal)
    }
  }

  async list(scope: Scope, opts: { limit: number; cursor?: string; status?: JobStatus }): Promise<{ jobs: JobView[]; nextCursor: string | null }> {
    const owner = scope === 'all' ? undefined : scope.owner
    const rows = await jobsRepo.listJobs(this.db.kysely, { limit: opts.limit + 1, before: opts.cursor, status: opts.status, owner })
    const page = rows.slice(0, opts.limit)
    await this.label.prime(page.map((r) => r.model_version_id))
    return { jobs: page.map((r) => toJobView(r, this.label)), nextCursor: rows.length > opts.limit ? page[page.length - 1]!.id : null }
  }

  /** Cancels a queued or running job; a running one's worker is told to drop it. */
  async cancel(id: string, scope: Scope): Promise<JobView> {
    for (let tries = 0; tries < 3; tries++) {
      const row = await this.find(id, scope)
      if (row.status !== 'delayed' && TERMINAL_STATUSES.includes(row.status)) {
        throw new AppError('JOB_ALREADY_FINISHED', `job ${id} is already ${row.status}; only queued or running jobs can be canceled`)
      }
      const now = this.clock.now()
      if (await durably(this.db, (trx) => jobsRepo.cancelJob(trx, id, { status: row.status, token: row.lease_token }, now))) {
        await imagesRepo.deleteImages(this.db.kysely, [id]).catch((err) => this.log.warn({ err, jobId: id }, 'could not delete a canceled job\'s image; the purge will'))
        if (row.status === 'running' && row.worker_id) {
          // Its worker may be connected here or to any other coordinator: each drops it if it holds it.
          this.dispatch.dropOnWorker(row.worker_id, id, row.lease_token, 'canceled by the API')
          await this.signals.publish({ kind: 'job.canceled', jobId: id, workerId: row.worker_id, token: row.lease_token }, now)
        } else {
          await this.signals.publish({ kind: 'jobs.finished', jobIds: [id] }, now)
        }
        this.metrics.finished('canceled')
        this.waiters.notify(id)
        return this.get(id, scope)
      }
      // It changed under us (dispatched or finished): look again.
    }
    return this.get(id, scope)
  }

  /** A dead job gets a fresh set of attempts. */
  async retry(id: string, scope: Scope): Promise<JobView> {
    const row = await this.find(id, scope)
    const now = this.clock.now()
    if (!(await durably(this.db, (trx) => jobsRepo.requeueDead(trx, id, now)))) {
      throw new AppError('JOB_NOT_DEAD', `job ${id} is ${row.status}; only dead jobs can be retried`)
    }
    this.dispatch.jobsMayBeQueued()
    await this.signals.publish({ kind: 'jobs.queued' }, now)
    return this.get(id, scope)
  }

  /** Old idempotency keys are forgotten after their TTL. */
  async expireIdempotencyKeys(): Promise<number> {
    return idemRepo.deleteKeysCreatedBefore(this.db.kysely, this.clock.now() - IDEMPOTENCY_TTL_MS)
  }
}

function idempotencyScope(key: string, owner: string | null): string {
  return `${owner ?? 'open'}:${key}`
}

/** What makes two submits "the same content": priority, and each image's bytes and name, in order. */
function fingerprintOf(req: SubmitRequest): string {
  // The model only when named, so keys stored before models could be named still match their retries.
  const h = createHash('sha256').update(`priority:${req.priority}\n${req.model ? `model:${req.model}\n` : ''}`)
  for (const img of req.images) {
    h.update(`${createHash('sha256').update(img.bytes).digest('hex')} ${img.filename ?? ''}\n`)
  }
  return h.digest('hex')
}
