import { TERMINAL_STATUSES, encodeAssignFrame, type JobFailed, type JobResult, type JobResultView, type JobStatus, type JobView, type WorkerHello } from '@hivesight/protocol'
import { v7 as uuidv7 } from 'uuid'
import type { Db } from '../db/create-db.ts'
import * as jobsRepo from '../db/job.repository.ts'
import type { NewJob } from '../db/schema.ts'
import * as workersRepo from '../db/worker.repository.ts'
import { AppError } from '../errors/app-errors.ts'
import type { ImageInfo } from '../images/image-inspector.ts'
import type { ModelFiles } from '../model/model-files.ts'
import type { BlobStore } from '../storage/blob-store.ts'
import type { WorkerChannel, WorkerRegistry } from '../workers/worker-registry.ts'
import type { Clock } from './clock.ts'
import { planAssignments } from './dispatcher.ts'
import { toJobView } from './job-view.ts'
import { JobWaiters } from './job-waiters.ts'

export interface JobServiceOptions {
  maxAttempts: number
  leaseMs: number
  /** How often leases, stale workers and other coordinators' submissions are checked. */
  sweepIntervalMs: number
}

export interface UploadedImage {
  bytes: Buffer
  filename: string | null
  info: ImageInfo
}

export interface Logger {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

export interface JobCounters {
  staleResults: number
  dispatched: number
  completed: number
}

/**
 * The one place that joins the pieces: repositories, the pure dispatcher, the blob store and the sockets
 * of the workers connected to this process. Dispatch is push: a submit, a finished job or a new worker
 * runs `pump()` at once; the sweep only covers what no event announces (other coordinators, expiries).
 */
export class JobService {
  readonly waiters = new JobWaiters()
  readonly counters: JobCounters = { staleResults: 0, dispatched: 0, completed: 0 }
  private pumping = false
  private pumpAgain = false
  // Skip the claim query while we know the queue is empty; bumped whenever a job may have been queued.
  private maybeQueued = true
  private queueVersion = 0
  private sweepTimer: NodeJS.Timeout | undefined
  private idle: Promise<void> = Promise.resolve()

  constructor(
    private readonly db: Db,
    private readonly blobs: BlobStore,
    private readonly model: ModelFiles,
    private readonly registry: WorkerRegistry,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: JobServiceOptions,
  ) {}

  start(): void {
    this.sweepTimer = setInterval(() => void this.sweep(), this.opts.sweepIntervalMs)
    this.sweepTimer.unref()
    void this.sweep()
  }

  async stop(): Promise<void> {
    clearInterval(this.sweepTimer)
    await this.idle
  }

  // ---- submissions and reads ----

  /** Stores every image durably and inserts the jobs in one transaction: all of them are accepted, or none. */
  async submit(images: UploadedImage[], priority: number): Promise<JobView[]> {
    const now = this.clock.now()
    const rows: NewJob[] = images.map((img) => ({
      id: uuidv7(), status: 'queued', priority, attempts: 0, max_attempts: this.opts.maxAttempts, lease_token: 0,
      submitted_at: now, filename: img.filename, content_type: img.info.contentType, byte_size: img.bytes.length,
      width: img.info.width, height: img.info.height,
    }))
    try {
      await Promise.all(rows.map((r, i) => this.blobs.put(r.id, images[i]!.bytes)))
      await this.blobs.flush()
      await this.db.kysely.transaction().execute((trx) => jobsRepo.insertJobs(trx, rows))
    } catch (err) {
      await Promise.all(rows.map((r) => this.blobs.delete(r.id).catch(() => undefined)))
      this.log.error({ err }, 'could not store an upload')
      throw new AppError('SERVICE_UNAVAILABLE', 'the upload could not be stored right now; nothing was accepted, try again')
    }
    this.jobsMayBeQueued()
    const stored = await jobsRepo.findJobs(this.db.kysely, rows.map((r) => r.id))
    const byId = new Map(stored.map((r) => [r.id, r]))
    return rows.map((r) => toJobView(byId.get(r.id)!))
  }

  async get(id: string): Promise<JobView> {
    const row = await jobsRepo.findJob(this.db.kysely, id)
    if (!row) throw new AppError('JOB_NOT_FOUND', `no job with id ${id}`)
    return toJobView(row)
  }

  /** The job now, or as soon as it is final, waiting at most `waitMs`. */
  async getWhenFinished(id: string, waitMs: number, signal?: AbortSignal): Promise<JobView> {
    // A real-time wait (timers), so the monotonic clock, not the domain clock tests move by hand.
    const deadline = performance.now() + waitMs
    for (;;) {
      const view = await this.get(id)
      const left = deadline - performance.now()
      if (TERMINAL_STATUSES.includes(view.status) || left <= 0 || signal?.aborted) return view
      // Woken by this process's result handler; the 1 s cap covers results that reach another coordinator.
      await this.waiters.wait(id, Math.min(left, 1_000), signal)
    }
  }

  async list(opts: { limit: number; cursor?: string; status?: JobStatus }): Promise<{ jobs: JobView[]; nextCursor: string | null }> {
    const rows = await jobsRepo.listJobs(this.db.kysely, { limit: opts.limit + 1, before: opts.cursor, status: opts.status })
    const page = rows.slice(0, opts.limit)
    return { jobs: page.map(toJobView), nextCursor: rows.length > opts.limit ? page[page.length - 1]!.id : null }
  }

  // ---- workers ----

  async workerConnected(hello: WorkerHello, channel: WorkerChannel, remoteAddress: string | null): Promise<string> {
    const id = uuidv7()
    const now = this.clock.now()
    await workersRepo.insertWorker(this.db.kysely, {
      id, kind: hello.kind, name: hello.name ?? null, slots: hello.slots, backend: hello.backend, threads: hello.threads,
      user_agent: hello.userAgent ?? null, remote_address: remoteAddress, connected_at: now, last_seen_at: now, jobs_done: 0,
    })
    this.registry.add({ id, hello, slots: hello.slots, inFlight: new Set(), channel })
    this.log.info({ workerId: id, kind: hello.kind, slots: hello.slots, name: hello.name }, 'worker joined')
    this.pump()
    return id
  }

  /** A worker is gone: every job it held goes back to the queue at once. */
  async workerDisconnected(id: string): Promise<void> {
    const w = this.registry.remove(id)
    if (!w) return
    const now = this.clock.now()
    const requeued = await jobsRepo.requeueWorkerJobs(this.db.kysely, [id])
    await workersRepo.markDisconnected(this.db.kysely, [id], now)
    this.log.info({ workerId: id, requeued }, 'worker left')
    if (requeued > 0) this.jobsMayBeQueued()
  }

  async handleResult(workerId: string, msg: JobResult): Promise<void> {
    const now = this.clock.now()
    const result: JobResultView = {
      predictions: this.model.toPredictions(msg.top),
      model: this.model.name,
      decodeMs: Math.round(msg.timings.decodeMs * 10) / 10,
      inferMs: Math.round(msg.timings.inferMs * 10) / 10,
    }
    const accepted = await this.db.kysely.transaction().execute(async (trx) => {
      const ok = await jobsRepo.completeJob(trx, { id: msg.jobId, token: msg.leaseToken, workerId }, now, JSON.stringify(result))
      if (ok) await workersRepo.addJobsDone(trx, workerId, 1, now)
      return ok
    })
    this.release(workerId, msg.jobId)
    if (accepted) {
      this.counters.completed++
      this.finished(msg.jobId)
    } else {
      this.counters.staleResults++
      this.log.warn({ workerId, jobId: msg.jobId, leaseToken: msg.leaseToken }, 'refused a stale result')
    }
  }

  async handleFailed(workerId: string, msg: JobFailed): Promise<void> {
    const fence = { id: msg.jobId, token: msg.leaseToken, workerId }
    const row = await jobsRepo.findJob(this.db.kysely, msg.jobId)
    const retry = row !== undefined && msg.retryable && row.attempts < row.max_attempts
    const accepted = retry
      ? await jobsRepo.requeueLeased(this.db.kysely, fence, msg.code, msg.message)
      : row !== undefined && await jobsRepo.failJob(this.db.kysely, fence, this.clock.now(), msg.code, msg.message)
    this.log.warn({ workerId, jobId: msg.jobId, code: msg.code, retry, accepted }, 'a worker could not classify an image')
    this.release(workerId, msg.jobId)
    if (!accepted) this.counters.staleResults++
    else if (retry) this.jobsMayBeQueued()
    else this.finished(msg.jobId)
  }

  /** The worker's slot is free again, whatever became of the job. */
  private release(workerId: string, jobId: string): void {
    this.registry.get(workerId)?.inFlight.delete(jobId)
    this.pump()
  }

  /** The job reached a final state: wake long-polls and drop the stored image. */
  private finished(jobId: string): void {
    this.waiters.notify(jobId)
    void this.blobs.delete(jobId).catch((err) => this.log.warn({ err, jobId }, 'could not delete a finished image'))
  }

  // ---- dispatch ----

  private jobsMayBeQueued(): void {
    this.queueVersion++
    this.maybeQueued = true
    this.pump()
  }

  /** Coalesced: many calls while a pass runs give one more pass. */
  pump(): void {
    if (this.pumping) {
      this.pumpAgain = true
      return
    }
    this.pumping = true
    this.idle = this.runPump()
      .catch((err) => this.log.error({ err }, 'dispatch failed; the sweep will try again'))
      .finally(() => {
        this.pumping = false
      })
  }

  private async runPump(): Promise<void> {
    do {
      this.pumpAgain = false
      while (this.maybeQueued) {
        const free = this.registry.freeSlots()
        const wanted = free.reduce((n, f) => n + f.free, 0)
        if (wanted === 0) break
        const version = this.queueVersion
        const sent = await this.claimAndSend(free, wanted)
        if (sent < wanted && version === this.queueVersion) this.maybeQueued = false
        if (sent === 0) break
      }
    } while (this.pumpAgain)
  }

  private async claimAndSend(free: { workerId: string; free: number }[], wanted: number): Promise<number> {
    const now = this.clock.now()
    const skipLocked = this.db.dialect === 'mariadb'
    const plan = await this.db.kysely.transaction().execute(async (trx) => {
      const queued = await jobsRepo.selectQueuedForUpdate(trx, wanted, skipLocked)
      const plan = planAssignments(free, queued.map((q) => q.id))
      const byId = new Map(queued.map((q) => [q.id, q]))
      for (const [workerId, ids] of plan) await jobsRepo.leaseJobs(trx, ids, workerId, now, now + this.opts.leaseMs)
      return [...plan].map(([workerId, ids]) => ({ workerId, jobs: ids.map((id) => byId.get(id)!) }))
    })
    let sent = 0
    for (const { workerId, jobs } of plan) {
      const w = this.registry.get(workerId)
      if (!w) {
        // It left while we claimed: its disconnect handler may have run before our commit.
        await jobsRepo.requeueWorkerJobs(this.db.kysely, [workerId])
        this.queueVersion++
        continue
      }
      for (const job of jobs) w.inFlight.add(job.id)
      sent += jobs.length
      void this.send(w.id, w.channel, jobs)
    }
    this.counters.dispatched += sent
    return sent
  }

  /** Reads the images at once but sends the frames in claim order, so priority order holds on the wire. */
  private async send(workerId: string, channel: WorkerChannel, jobs: jobsRepo.QueuedJob[]): Promise<void> {
    const images = await Promise.all(jobs.map((job) => this.blobs.get(job.id).catch((err: unknown) => err)))
    for (const [i, job] of jobs.entries()) {
      const image = images[i]
      const token = job.lease_token + 1
      if (!(image instanceof Buffer)) {
        this.log.error({ err: image, jobId: job.id }, 'the stored image is missing')
        await jobsRepo.failJob(this.db.kysely, { id: job.id, token, workerId }, this.clock.now(), 'IMAGE_MISSING', 'the stored image could not be read')
        this.release(workerId, job.id)
        this.waiters.notify(job.id)
        continue
      }
      // A failed send means the socket is closing; its close handler requeues the job.
      channel.send(encodeAssignFrame({ type: 'job.assign', jobId: job.id, leaseToken: token, attempt: job.attempts + 1, contentType: job.content_type }, image))
    }
  }

  // ---- sweep ----

  /** Covers what no event announces: expired leases, workers of a crashed coordinator, other coordinators' uploads. */
  async sweep(): Promise<void> {
    try {
      const now = this.clock.now()
      await workersRepo.touchWorkers(this.db.kysely, this.registry.ids(), now)
      const stale = await workersRepo.findStaleWorkerIds(this.db.kysely, now - 3 * this.opts.sweepIntervalMs)
      const orphans = stale.filter((id) => !this.registry.get(id))
      if (orphans.length > 0) {
        const n = await jobsRepo.requeueWorkerJobs(this.db.kysely, orphans)
        await workersRepo.markDisconnected(this.db.kysely, orphans, now)
        this.log.info({ workers: orphans.length, requeued: n }, 'requeued the jobs of workers nobody vouches for')
      }
      const expired = await jobsRepo.requeueExpiredLeases(this.db.kysely, now)
      if (expired > 0) this.log.warn({ requeued: expired }, 'requeued jobs whose lease expired')
      this.jobsMayBeQueued()
    } catch (err) {
      this.log.error({ err }, 'sweep failed; it runs again on the next tick')
    }
  }
}
