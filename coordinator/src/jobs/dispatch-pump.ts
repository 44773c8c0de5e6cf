import { encodeAssignFrame } from '@hivesight/protocol'
import type { ClaimedJob, DispatchStore } from '../db/dispatch-store.ts'
import type { LiveWorker, WorkerRegistry } from '../workers/worker-registry.ts'
import type { Clock } from './clock.ts'
import type { DispatchCounters } from './counters.ts'
import { planAssignments, type FreeSlots } from './dispatcher.ts'
import type { JobMetrics } from './job-metrics.ts'
import type { LeaseRecovery } from './lease-recovery.ts'
import type { Logger } from './logger.ts'

/** Free slots of volunteer tabs, filled their own way (trust/volunteer-dispatch.ts). */
export interface VolunteerSlots {
  dispatch(): Promise<number>
  queueChanged(): void
}

/** Slots reserved for jobs that will be leased in their upload's commit. */
export interface DirectLease {
  /** One entry per slot. */
  workerIds: string[]
  /** The model version each slot was planned for (its worker holds it, or the plan sends it there). */
  models: string[]
  leaseMs: number
}

/** A job leased to a reserved slot in its upload's commit, sent from the upload's own bytes. */
export interface DirectJob {
  jobId: string
  workerId: string
  contentType: string
  submittedAt: number
  model: string
  image: Buffer
}

/**
 * Pushes queued jobs to free worker slots. Woken by anything that may have queued work or freed a slot;
 * wake-ups while a pass runs coalesce into one more pass, so under load every claim is a batch: one
 * transaction selects the next jobs in claim order (locking only those, SKIP LOCKED on MariaDB), spreads
 * them over the free slots (a pure plan) and leases them all with one UPDATE. The images are read after
 * the commit and sent in claim order.
 */
export class DispatchPump {
  private pumping = false
  private pumpAgain = false
  // Skip the claim query while we know the queue is empty; bumped whenever a job may have been queued.
  private maybeQueued = true
  private queueVersion = 0
  private idle: Promise<void> = Promise.resolve()
  private draining = false
  private stopped = false

  constructor(
    private readonly store: DispatchStore,
    private readonly registry: WorkerRegistry,
    private readonly recovery: Pick<LeaseRecovery, 'takeBack'>,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly metrics: JobMetrics,
    private readonly counters: DispatchCounters,
    private readonly opts: { leaseMs: number; onFinished(jobIds: string[]): void; volunteers?: VolunteerSlots; shadow?(model: string): string | undefined },
  ) {}

  /** Work may be waiting (an upload, a requeue, a peer's signal). */
  jobsMayBeQueued(): void {
    this.queueVersion++
    this.maybeQueued = true
    this.opts.volunteers?.queueChanged()
    this.pump()
  }

  /** A slot may be free. */
  pump(): void {
    if (this.draining || this.stopped) return
    if (this.pumping) {
      this.pumpAgain = true
      return
    }
    this.pumping = true
    this.idle = this.run()
      .catch((err) => this.log.error({ err }, 'dispatch failed; the sweep will try again'))
      .finally(() => {
        this.pumping = false
      })
  }

  /** Shutdown: nothing new goes out; workers are told, and may finish what they hold. */
  startDrain(): void {
    this.draining = true
    for (const w of this.registry.all()) w.channel.sendMessage({ type: 'coordinator.draining' })
  }

  async stop(): Promise<void> {
    this.stopped = true
    await this.idle
  }

  /**
   * Free slots for jobs leased in their upload's own commit, when nothing is known to wait here (the
   * commit still checks the shared queue, for priority). Skips a claim transaction and a read of the images.
   */
  reserve(models: string[]): DirectLease | undefined {
    if (models.length === 0 || this.draining || this.stopped || this.maybeQueued || this.pumping) return undefined
    const plan = planAssignments(this.registry.freeSlots(), models.map((model, i) => ({ id: String(i), model })))
    const slots = [...plan].flatMap(([workerId, ids]) => ids.map((i) => ({ workerId, model: models[Number(i)]! }))).filter((s) => this.registry.reserve(s.workerId))
    return slots.length > 0 ? { workerIds: slots.map((s) => s.workerId), models: slots.map((s) => s.model), leaseMs: this.opts.leaseMs } : undefined
  }

  /** The upload's commit is over: jobs it leased go out now, unused slots are free again. */
  sendDirect(lease: DirectLease, leased: DirectJob[], now: number): void {
    for (const workerId of lease.workerIds) this.registry.unreserve(workerId)
    const gone = new Set<string>()
    let sent = 0
    for (const job of leased) {
      const w = this.registry.get(job.workerId)
      const shadow = this.opts.shadow?.(job.model)
      if (!w || !this.registry.hold(job.workerId, job.jobId, { token: 1, leaseExpiresAt: now + lease.leaseMs, submittedAt: job.submittedAt, model: job.model, shadow })) {
        gone.add(job.workerId)
        continue
      }
      sendAssign(w, { id: job.jobId, leaseToken: 1, attempt: 1, contentType: job.contentType, model: job.model, shadow }, job.image)
      sent++
    }
    this.counters.dispatched += sent
    this.metrics.dispatched(Array.from({ length: sent }, () => 0))
    // It left while the upload committed: its disconnect handler may have run before our commit.
    if (gone.size > 0) void this.recovery.takeBack({ workerIds: [...gone] }, this.clock.now()).catch((err) => this.log.warn({ err }, 'could not take back jobs of a worker that left'))
    if (leased.length < lease.workerIds.length) this.pump()
  }

  /** The upload's commit failed: its reserved slots are free again. */
  release(lease: DirectLease): void {
    for (const workerId of lease.workerIds) this.registry.unreserve(workerId)
    this.pump()
  }

  /** A job was canceled or its lease ran out: the holder drops it, and its slot is free again. */
  dropOnWorker(workerId: string, jobId: string, token: number, reason: string): boolean {
    const held = this.registry.get(workerId)?.inFlight.get(jobId)
    if (!held || held.token !== token) return false
    this.registry.release(workerId, jobId)
    this.registry.get(workerId)?.channel.sendMessage({ type: 'job.cancel', jobId, leaseToken: token, reason })
    this.pump()
    return true
  }

  private async run(): Promise<void> {
    do {
      this.pumpAgain = false
      while (this.maybeQueued && !this.draining && !this.stopped) {
        const free = this.registry.freeSlots()
        const wanted = free.reduce((n, f) => n + f.free, 0)
        if (wanted === 0) break
        const version = this.queueVersion
        const sent = await this.claimAndSend(free, wanted)
        if (sent < wanted && version === this.queueVersion) this.maybeQueued = false
        if (sent === 0) break
      }
      // Volunteers' slots after trusted ones: each volunteer claims what it may answer (trust/volunteer-dispatch.ts).
      if (this.opts.volunteers && !this.draining && !this.stopped) await this.opts.volunteers.dispatch()
    } while (this.pumpAgain && !this.stopped)
  }

  private async claimAndSend(free: FreeSlots[], wanted: number): Promise<number> {
    const now = this.clock.now()
    const expiresAt = now + this.opts.leaseMs
    const claimed = await this.store.claim(wanted, (jobs) => planAssignments(free, jobs), now, expiresAt)
    let sent = 0
    const ready: { w: LiveWorker; jobs: ClaimedJob[] }[] = []
    for (const { workerId, jobs } of claimed) {
      const w = this.registry.get(workerId)
      if (!w) {
        // It left while we claimed: its disconnect handler may have run before our commit.
        await this.recovery.takeBack({ workerIds: [workerId] }, this.clock.now())
        continue
      }
      for (const job of jobs) {
        job.shadow = this.opts.shadow?.(job.model)
        this.registry.hold(workerId, job.id, { token: job.leaseToken, leaseExpiresAt: expiresAt, submittedAt: job.submittedAt, hasOpinions: job.hasOpinions, model: job.model, shadow: job.shadow })
      }
      this.metrics.dispatched(jobs.map((j) => (now - Math.max(j.submittedAt, j.availableAt)) / 1000))
      sent += jobs.length
      ready.push({ w, jobs })
    }
    this.counters.dispatched += sent
    if (ready.length > 0) await this.send(ready)
    return sent
  }

  /** One read for the whole batch's images; frames go out in claim order, so priority order holds on the wire. */
  private async send(ready: { w: LiveWorker; jobs: ClaimedJob[] }[]): Promise<void> {
    const images = await this.store.images(ready.flatMap((r) => r.jobs.map((j) => j.id)))
    const missing: string[] = []
    for (const { w, jobs } of ready) {
      for (const job of jobs) {
        const image = images.get(job.id)
        if (!image) {
          missing.push(job.id)
          await this.failMissing(w.id, job.id, job.leaseToken)
          continue
        }
        sendAssign(w, job, image)
      }
    }
    if (missing.length > 0) this.opts.onFinished(missing)
  }

  /** Cannot happen while images and jobs are written together; if it does, the job fails with a name, not silently. */
  private async failMissing(workerId: string, jobId: string, token: number): Promise<void> {
    this.log.error({ jobId }, 'the stored image is missing')
    this.registry.release(workerId, jobId)
    try {
      await this.store.failMissing(jobId, token, workerId, this.clock.now())
    } catch (err) {
      this.log.error({ err, jobId }, 'could not fail a job whose image is missing; its lease will lapse')
    }
  }
}

/** One job.assign frame, the image inside; a failed send means the socket is closing, and its close handler takes the job back. */
function sendAssign(w: LiveWorker, job: Pick<ClaimedJob, 'id' | 'leaseToken' | 'attempt' | 'contentType' | 'model' | 'shadow'>, image: Buffer): void {
  const header = { type: 'job.assign' as const, jobId: job.id, leaseToken: job.leaseToken, attempt: job.attempt, contentType: job.contentType, model: job.model }
  w.channel.sendFrame(encodeAssignFrame(job.shadow ? { ...header, shadow: job.shadow } : header, image))
}
