import { encodeAssignFrame, MODEL_INPUT_CONTENT_TYPE, type JobAssign } from '@hivesight/protocol'
import { v7 as uuidv7 } from 'uuid'
import type { ClaimedJob } from '../db/dispatch-store.ts'
import type { VolunteerDispatchStore } from '../db/volunteer-dispatch-store.ts'
import type { Clock } from '../jobs/clock.ts'
import type { Logger } from '../jobs/logger.ts'
import type { LiveWorker, WorkerRegistry } from '../workers/worker-registry.ts'
import type { KnownAnswers } from './known-answers.ts'
import type { SpotCheckDesk } from './spot-check-desk.ts'
import type { VolunteerLedger } from './volunteer-ledger.ts'

/** The shape of the last real job a volunteer got: checks copy it, so nothing in a frame tells them apart. */
interface Shape { leaseToken: number; attempt: number; submittedAt: number }

/**
 * Jobs for volunteer tabs, one volunteer at a time (each may answer different jobs: not one it or its
 * network answered before, only what keys allow volunteers). Some of its jobs are known-answer spot checks.
 * A volunteer receives the model input made here, never the photo (nor its name or owner).
 */
export class VolunteerDispatch {
  // Volunteers for whom the queue had nothing: asked again only once something may have been queued.
  private readonly starved = new Set<string>()
  private shape: Shape = { leaseToken: 1, attempt: 1, submittedAt: 0 }

  constructor(
    private readonly store: VolunteerDispatchStore,
    private readonly registry: WorkerRegistry,
    private readonly known: KnownAnswers,
    private readonly desk: SpotCheckDesk,
    private readonly ledger: VolunteerLedger,
    private readonly makeInput: (image: Buffer, contentType: string) => Promise<Buffer>,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: { leaseMs: number; random: () => number; takeBack(workerId: string): Promise<unknown>; models(): string[] },
  ) {}

  queueChanged(): void {
    this.starved.clear()
  }

  /** Fills volunteers' free slots; how many jobs and checks went out. */
  async dispatch(): Promise<number> {
    if (this.registry.volunteers === 0) return 0
    let sent = 0
    for (const { workerId, free } of this.registry.freeSlots(false)) {
      const w = this.registry.get(workerId)
      if (!w || this.starved.has(workerId)) continue
      sent += await this.fill(w, free)
    }
    return sent
  }

  private async fill(w: LiveWorker, free: number): Promise<number> {
    const now = this.clock.now()
    const expiresAt = now + this.opts.leaseMs
    let checks = 0
    const models = this.opts.models()
    while (checks < free && this.desk.due(this.ledger.answersGiven(w.trust.identity))) {
      const known = this.known.pick(this.opts.random, now)
      if (!known || !models.includes(known.model)) break
      const jobId = this.desk.issue(w.id, w.trust.identity, known, uuidv7({ msecs: (this.shape.submittedAt || now) - Math.floor(this.opts.random() * 1_000) }))
      this.registry.hold(w.id, jobId, { token: this.shape.leaseToken, leaseExpiresAt: expiresAt, submittedAt: now, model: known.model })
      send(w, { type: 'job.assign', jobId, leaseToken: this.shape.leaseToken, attempt: this.shape.attempt, contentType: MODEL_INPUT_CONTENT_TYPE, model: known.model }, disguise(known.input, this.opts.random))
      checks++
    }
    if (checks === free) return checks
    const jobs = await this.store.claimFor({ workerId: w.id, identity: w.trust.identity, network: w.trust.network }, free - checks, now, expiresAt, models)
    if (jobs.length < free - checks) this.starved.add(w.id)
    if (jobs.length === 0) return checks
    const held = jobs.filter((j) => this.registry.hold(w.id, j.id, { token: j.leaseToken, leaseExpiresAt: expiresAt, submittedAt: j.submittedAt, model: j.model }))
    // It left while we claimed: its disconnect handler may have run before our commit.
    if (held.length < jobs.length) await this.opts.takeBack(w.id).catch((err: unknown) => this.log.warn({ err, workerId: w.id }, 'could not take back jobs of a volunteer that left'))
    const images = await this.store.images(held.map((j) => j.id))
    let sent = checks
    for (const job of held) {
      const input = await this.inputOf(w, job, images.get(job.id))
      if (!input) continue
      this.shape = { leaseToken: job.leaseToken, attempt: job.attempt, submittedAt: job.submittedAt }
      send(w, { type: 'job.assign', jobId: job.id, leaseToken: job.leaseToken, attempt: job.attempt, contentType: MODEL_INPUT_CONTENT_TYPE, model: job.model }, input)
      sent++
    }
    return sent
  }

  /** The model input of a claimed job; undefined (and the job left to trusted workers) when it cannot be made. */
  private async inputOf(w: LiveWorker, job: ClaimedJob, image: Buffer | undefined): Promise<Buffer | undefined> {
    try {
      if (!image) throw new Error('the stored image is missing')
      return await this.makeInput(image, job.contentType)
    } catch (err) {
      this.log.warn({ err, jobId: job.id }, 'cannot make a model input of this image; leaving it to trusted workers')
      this.registry.release(w.id, job.id)
      await this.store.keepFromVolunteers(job.id, job.leaseToken, w.id, this.clock.now())
        .catch((e: unknown) => this.log.warn({ err: e, jobId: job.id }, 'could not hand a job back from a volunteer; its lease will lapse'))
      return undefined
    }
  }
}

/**
 * A known answer's input with the lowest bit of a few hundred bytes flipped at random: a tab that remembers
 * what it was sent cannot spot a repeat by its bytes, and a top-1 leading by 0.2 does not move for ±1/255.
 */
export function disguise(input: Buffer, random: () => number, flips = 256): Buffer {
  const out = Buffer.from(input)
  for (let i = 0; i < flips; i++) {
    const at = Math.floor(random() * out.length)
    out[at] = out[at]! ^ 1
  }
  return out
}

/** A failed send means the socket is closing; its close handler takes the jobs back. */
function send(w: LiveWorker, header: JobAssign, body: Buffer): void {
  w.channel.sendFrame(encodeAssignFrame(header, body))
}
