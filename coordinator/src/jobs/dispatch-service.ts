import { createHash } from 'node:crypto'
import { encodeAssignFrame, type JobFailed, type JobRelease, type JobResult, type WorkerHello } from '@hivesight/protocol'
import { v7 as uuidv7 } from 'uuid'
import { retryTransient, type Db } from '../db/create-db.ts'
import * as jobsRepo from '../db/job.repository.ts'
import * as workersRepo from '../db/worker.repository.ts'
import * as sessionsRepo from '../db/worker-session.repository.ts'
import type { ModelFiles } from '../model/model-files.ts'
import type { BlobStore } from '../storage/blob-store.ts'
import type { LiveWorker, WorkerChannel, WorkerRegistry } from '../workers/worker-registry.ts'
import { AnswerRecorder } from './answer-recorder.ts'
import type { Clock } from './clock.ts'
import { planAssignments } from './dispatcher.ts'
import type { JobWaiters } from './job-waiters.ts'
import type { JobMetrics } from './job-metrics.ts'

export interface DispatchOptions {
  maxAttempts: number
  leaseMs: number
  /** How often leases, stale workers, backed-off jobs and other coordinators' submissions are checked. */
  sweepIntervalMs: number
  /** Stable across restarts of this coordinator, distinct from every other one sharing the database. */
  coordinatorId: string
}

export interface Logger {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

export interface DispatchCounters {
  dispatched: number
  completed: number
  failed: number
  staleResults: number
  requeuedLostLeases: number
  deadJobs: number
  bufferedResults: number
}

/**
 * The worker side of the job lifecycle: who holds what, pushing jobs to free slots at once, accepting
 * only fenced results, and taking back leases that are lost. Every decision is a pure function
 * (dispatcher.ts, lease.ts) or a token-guarded UPDATE (db/job.repository.ts); this class wires them.
 */
export class DispatchService {
  readonly counters: DispatchCounters = { dispatched: 0, completed: 0, failed: 0, staleResults: 0, requeuedLostLeases: 0, deadJobs: 0, bufferedResults: 0 }
  private pumping = false
  private pumpAgain = false
  // Skip the claim query while we know the queue is empty; bumped whenever a job may have been queued.
  private maybeQueued = true
  private queueVersion = 0
  private sweepTimer: NodeJS.Timeout | undefined
  private idle: Promise<void> = Promise.resolve()
  private draining = false
  private stopped = false
  private readonly answers: AnswerRecorder
  // A worker (and its session) nobody has touched for three sweeps belongs to a coordinator that died.
  private get staleAfterMs(): number {
    return 3 * this.opts.sweepIntervalMs
  }

  constructor(
    private readonly db: Db,
    private readonly blobs: BlobStore,
    model: ModelFiles,
    readonly registry: WorkerRegistry,
    private readonly waiters: JobWaiters,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: DispatchOptions,
    private readonly metrics: JobMetrics,
  ) {
    this.answers = new AnswerRecorder(db, model, clock, log, metrics, this.counters, {
      finished: (jobId, dropImage) => this.finished(jobId, dropImage),
      requeued: () => this.jobsMayBeQueued(),
    })
  }

  async start(): Promise<void> {
    // Before any worker connects: what this coordinator held before a restart is nobody's now.
    try {
      const freed = await sessionsRepo.releaseCoordinatorSessions(this.db.kysely, this.opts.coordinatorId)
      if (freed > 0) this.log.info({ sessions: freed }, 'freed the worker sessions of this coordinator\'s previous run')
    } catch (err) {
      // Not fatal: those sessions are taken over once they go stale.
      this.log.warn({ err }, 'could not free the worker sessions of the previous run')
    }
    this.sweepTimer = setInterval(() => void this.sweep(), this.opts.sweepIntervalMs)
    this.sweepTimer.unref()
    void this.sweep()
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.sweepTimer)
    await this.idle
    await this.answers.settle()
  }

  /** Shutdown: nothing new goes out; workers are told, and may finish what they hold. */
  startDrain(): void {
    this.draining = true
    for (const w of this.registry.all()) w.channel.sendMessage({ type: 'coordinator.draining' })
  }

  // ---- workers ----

  /**
   * Registers a worker. With a session token, the token's one live session is claimed first (in the
   * database, so it holds across coordinators); null = a live session already holds it.
   */
  async workerConnected(hello: WorkerHello, channel: WorkerChannel, remoteAddress: string | null, sessionToken?: string): Promise<string | null> {
    const id = uuidv7()
    const now = this.clock.now()
    if (sessionToken !== undefined) {
      const hash = createHash('sha256').update(sessionToken).digest('hex')
      const claim = { tokenHash: hash, workerId: id, coordinatorId: this.opts.coordinatorId }
      if (!(await sessionsRepo.claimSession(this.db.kysely, claim, now, now - this.staleAfterMs))) return null
    }
    await workersRepo.insertWorker(this.db.kysely, {
      id, kind: hello.kind, name: hello.name ?? null, slots: hello.slots, backend: hello.backend, threads: hello.threads,
      user_agent: hello.userAgent ?? null, remote_address: remoteAddress, connected_at: now, last_seen_at: now, jobs_done: 0,
    })
    this.registry.add({ id, hello, slots: hello.slots, inFlight: new Map(), draining: false, channel })
    this.log.info({ workerId: id, kind: hello.kind, slots: hello.slots, name: hello.name }, 'worker joined')
    this.pump()
    return id
  }

  /** A worker is gone: every job it held goes back to the queue at once. */
  async workerDisconnected(id: string): Promise<void> {
    const w = this.registry.remove(id)
    if (!w) return
    const now = this.clock.now()
    const lost = await jobsRepo.requeueWorkerJobs(this.db.kysely, [id], now)
    await workersRepo.markDisconnected(this.db.kysely, [id], now)
    await sessionsRepo.releaseSessions(this.db.kysely, [id])
    this.leasesTakenBack(lost)
    this.log.info({ workerId: id, requeued: lost.requeued, dead: lost.dead }, 'worker left')
    for (const jobId of w.inFlight.keys()) this.waiters.notify(jobId)
    if (lost.requeued > 0) this.jobsMayBeQueued()
  }

  private leasesTakenBack(lost: jobsRepo.LostLease): void {
    this.counters.requeuedLostLeases += lost.requeued
    this.counters.deadJobs += lost.dead
    this.metrics.leasesTakenBack(lost.requeued, lost.dead)
  }

  workerDraining(id: string): void {
    const w = this.registry.get(id)
    if (w) w.draining = true
    this.log.info({ workerId: id, holding: w?.inFlight.size ?? 0 }, 'worker is draining')
  }

  // ---- answers from workers ----

  /** A worker's answer (result or failure): its slot is free at once; the answer is applied, or kept until it can be. */
  async handleAnswer(workerId: string, msg: JobResult | JobFailed): Promise<void> {
    const held = this.registry.get(workerId)?.inFlight.get(msg.jobId)
    this.release(workerId, msg.jobId)
    await this.answers.record(workerId, msg, held?.submittedAt)
  }

  async handleRelease(workerId: string, msg: JobRelease): Promise<void> {
    this.release(workerId, msg.jobId)
    if (await jobsRepo.releaseLeased(this.db.kysely, { id: msg.jobId, token: msg.leaseToken, workerId }, this.clock.now())) this.jobsMayBeQueued()
  }

  /** Canceled through the API: the holder drops it and its slot is free again. */
  cancelOnWorker(workerId: string, jobId: string, token: number, reason: string): void {
    const w = this.registry.get(workerId)
    if (!w?.inFlight.delete(jobId)) return
    w.channel.sendMessage({ type: 'job.cancel', jobId, leaseToken: token, reason })
    this.pump()
  }

  /** The worker's slot is free again, whatever became of the job. */
  private release(workerId: string, jobId: string): void {
    this.registry.get(workerId)?.inFlight.delete(jobId)
    this.pump()
  }

  /** The job reached a final state: wake long-polls; drop the image unless the job may run again. */
  finished(jobId: string, dropImage = true): void {
    this.waiters.notify(jobId)
    if (dropImage) void this.blobs.delete(jobId).catch((err) => this.log.warn({ err, jobId }, 'could not delete a finished image'))
  }

  // ---- dispatch ----

  jobsMayBeQueued(): void {
    this.queueVersion++
    this.maybeQueued = true
    this.pump()
  }

  /** Coalesced: many calls while a pass runs give one more pass. */
  pump(): void {
    if (this.draining || this.stopped) return
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
      while (this.maybeQueued && !this.draining) {
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
    const expiresAt = now + this.opts.leaseMs
    const skipLocked = this.db.dialect === 'mariadb'
    const plan = await retryTransient(() => this.db.kysely.transaction().execute(async (trx) => {
      const queued = await jobsRepo.selectQueuedForUpdate(trx, wanted, skipLocked, now)
      const plan = planAssignments(free, queued.map((q) => q.id))
      const byId = new Map(queued.map((q) => [q.id, q]))
      for (const [workerId, ids] of plan) await jobsRepo.leaseJobs(trx, ids, workerId, now, expiresAt)
      return [...plan].map(([workerId, ids]) => ({ workerId, jobs: ids.map((id) => byId.get(id)!) }))
    }))
    let sent = 0
    for (const { workerId, jobs } of plan) {
      const w = this.registry.get(workerId)
      if (!w) {
        // It left while we claimed: its disconnect handler may have run before our commit.
        await jobsRepo.requeueWorkerJobs(this.db.kysely, [workerId], this.clock.now())
        this.queueVersion++
        continue
      }
      for (const job of jobs) w.inFlight.set(job.id, { token: job.lease_token + 1, leaseExpiresAt: expiresAt, submittedAt: Number(job.submitted_at) })
      this.metrics.dispatched(jobs.map((j) => (now - Math.max(Number(j.submitted_at), Number(j.available_at))) / 1000))
      sent += jobs.length
      void this.send(w, jobs)
    }
    this.counters.dispatched += sent
    return sent
  }

  /** Reads the images at once but sends the frames in claim order, so priority order holds on the wire. */
  private async send(w: LiveWorker, jobs: jobsRepo.QueuedJob[]): Promise<void> {
    const images = await Promise.all(jobs.map((job) => this.blobs.get(job.id).catch((err: unknown) => err)))
    for (const [i, job] of jobs.entries()) {
      const image = images[i]
      const token = job.lease_token + 1
      if (!(image instanceof Buffer)) {
        if (this.stopped) return // shutting down: the lease lapses and the job is requeued on restart
        this.log.error({ err: image, jobId: job.id }, 'the stored image is missing')
        try {
          await jobsRepo.failJob(this.db.kysely, { id: job.id, token, workerId: w.id }, this.clock.now(), 'IMAGE_MISSING', 'the stored image could not be read')
        } catch (err) {
          this.log.error({ err, jobId: job.id }, 'could not fail a job whose image is missing; its lease will lapse')
        }
        this.release(w.id, job.id)
        this.waiters.notify(job.id)
        continue
      }
      // A failed send means the socket is closing; its close handler requeues the job.
      w.channel.sendFrame(encodeAssignFrame({ type: 'job.assign', jobId: job.id, leaseToken: token, attempt: job.attempts + 1, contentType: job.content_type }, image))
    }
  }

  // ---- sweep ----

  /** Covers what no event announces: expired leases, workers of a crashed coordinator, backoffs, other coordinators' uploads. */
  async sweep(): Promise<void> {
    if (this.stopped) return
    try {
      await this.answers.flushBuffered()
      const now = this.clock.now()
      // Leases that ran out on a live worker: tell it to drop the job and free the slot.
      for (const w of this.registry.all()) {
        for (const [jobId, held] of w.inFlight) {
          if (held.leaseExpiresAt > now) continue
          w.inFlight.delete(jobId)
          w.channel.sendMessage({ type: 'job.cancel', jobId, leaseToken: held.token, reason: 'lease expired' })
        }
      }
      await workersRepo.touchWorkers(this.db.kysely, this.registry.ids(), now)
      await sessionsRepo.touchSessions(this.db.kysely, this.registry.ids(), now)
      const stale = await workersRepo.findStaleWorkerIds(this.db.kysely, now - this.staleAfterMs)
      const orphans = stale.filter((id) => !this.registry.get(id))
      if (orphans.length > 0) {
        const lost = await jobsRepo.requeueWorkerJobs(this.db.kysely, orphans, now)
        await workersRepo.markDisconnected(this.db.kysely, orphans, now)
        await sessionsRepo.releaseSessions(this.db.kysely, orphans)
        this.leasesTakenBack(lost)
        this.log.info({ workers: orphans.length, ...lost }, 'took back the jobs of workers nobody vouches for')
      }
      const expired = await jobsRepo.requeueExpiredLeases(this.db.kysely, now)
      if (expired.requeued + expired.dead > 0) {
        this.leasesTakenBack(expired)
        this.log.warn(expired, 'took back jobs whose lease expired')
      }
      this.jobsMayBeQueued()
    } catch (err) {
      this.log.error({ err }, 'sweep failed; it runs again on the next tick')
    }
  }
}
