import type { ClassScore, JobAssign, JobFailed, JobResult } from '@hivesight/protocol'

export type Outcome = JobResult | JobFailed

export interface PipelineStages {
  /** Image bytes → the input of the job's model; throws a `decodeError` (see below) for a picture that cannot be read. */
  prepare(image: Uint8Array, job: JobAssign): Promise<Float32Array>
  infer(input: Float32Array, job: JobAssign): Promise<{ top: ClassScore[]; inferMs: number; shadowTop1?: number }>
  isDecodeError(err: unknown): boolean
  send(outcome: Outcome): void
  now(): number
}

interface Prepared { job: JobAssign; input: Float32Array; prepareMs: number }

/** Inputs prepared ahead of the prediction that runs: one is enough while preparing is quicker than predicting. */
const PREPARED_AHEAD = 1

/**
 * A page's two-stage pipeline: the next image is decoded and cropped on the page's thread while the current
 * one is predicted in the inference worker, so the model never waits for a decode or a network round
 * trip. Every job ends in exactly one message (result or failure) unless it was cancelled, taken back at a
 * drain or lost with the connection (the coordinator requeues those itself).
 */
export class JobPipeline {
  private readonly incoming: { job: JobAssign; image: Uint8Array }[] = []
  private readonly ready: Prepared[] = []
  private preparing: string | undefined
  private preparingJob: JobAssign | undefined
  private running: string | undefined
  private readonly cancelled = new Set<string>()
  /** Bumped by clear(): work that started before a disconnect must not answer after it. */
  private generation = 0
  private idleWaiters: (() => void)[] = []

  constructor(private readonly stages: PipelineStages) {}

  add(job: JobAssign, image: Uint8Array): void {
    this.incoming.push({ job, image })
    this.pump()
  }

  /** Not started: dropped. Being prepared: dropped when that ends. Running: its answer is sent and ignored. */
  cancel(jobId: string): 'dropped' | 'running' | 'unknown' {
    const i = this.incoming.findIndex((q) => q.job.jobId === jobId)
    if (i >= 0) return void this.incoming.splice(i, 1), 'dropped'
    const r = this.ready.findIndex((p) => p.job.jobId === jobId)
    if (r >= 0) return void this.ready.splice(r, 1), 'dropped'
    if (this.preparing === jobId) return void this.cancelled.add(jobId), 'dropped'
    return this.running === jobId ? 'running' : 'unknown'
  }

  /** The connection is gone: the coordinator requeues everything we held, so answering would be stale. */
  clear(): void {
    this.generation++
    this.incoming.length = 0
    this.ready.length = 0
    this.notifyIfIdle()
  }

  /** Jobs whose prediction has not started (to hand back at a drain); they leave the pipeline. */
  takeUnstarted(): JobAssign[] {
    const jobs = [...this.ready.splice(0).map((p) => p.job), ...this.incoming.splice(0).map((q) => q.job)]
    if (this.preparing) {
      this.cancelled.add(this.preparing)
      jobs.push(this.preparingJob!)
    }
    this.notifyIfIdle()
    return jobs
  }

  get size(): number {
    return this.incoming.length + this.ready.length + (this.preparing ? 1 : 0) + (this.running ? 1 : 0)
  }

  /** Resolves once no prediction runs and nothing waits (e.g. to finish a drain). */
  idle(): Promise<void> {
    if (this.running === undefined && this.preparing === undefined && this.ready.length === 0 && this.incoming.length === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private pump(): void {
    // The model first: a prepared input never waits for the next decode to start.
    if (this.running === undefined) {
      const next = this.ready.shift()
      if (next) void this.inferOne(next)
    }
    if (this.preparing === undefined && this.ready.length < PREPARED_AHEAD + (this.running ? 0 : 1)) {
      const next = this.incoming.shift()
      if (next) void this.prepareOne(next.job, next.image)
    }
    this.notifyIfIdle()
  }

  private async prepareOne(job: JobAssign, image: Uint8Array): Promise<void> {
    const generation = this.generation
    this.preparing = job.jobId
    this.preparingJob = job
    const t0 = this.stages.now()
    try {
      const input = await this.stages.prepare(image, job)
      if (this.wanted(job, generation)) this.ready.push({ job, input, prepareMs: this.stages.now() - t0 })
    } catch (err) {
      if (this.wanted(job, generation)) this.stages.send(failure(job, err, this.stages.isDecodeError(err)))
    } finally {
      this.preparing = undefined
      this.preparingJob = undefined
      this.cancelled.delete(job.jobId)
      this.pump()
    }
  }

  private async inferOne({ job, input, prepareMs }: Prepared): Promise<void> {
    const generation = this.generation
    this.running = job.jobId
    try {
      const { top, inferMs, shadowTop1 } = await this.stages.infer(input, job)
      if (generation === this.generation) {
        this.stages.send({ type: 'job.result', jobId: job.jobId, leaseToken: job.leaseToken, model: job.model, top, timings: { decodeMs: prepareMs, inferMs }, ...(shadowTop1 === undefined ? {} : { shadowTop1 }) })
      }
    } catch (err) {
      if (generation === this.generation) this.stages.send(failure(job, err, false))
    } finally {
      this.running = undefined
      this.pump()
    }
  }

  private wanted(job: JobAssign, generation: number): boolean {
    return generation === this.generation && !this.cancelled.has(job.jobId)
  }

  private notifyIfIdle(): void {
    if (this.idleWaiters.length === 0) return
    if (this.running !== undefined || this.preparing !== undefined || this.ready.length > 0 || this.incoming.length > 0) return
    for (const w of this.idleWaiters.splice(0)) w()
  }
}

function failure(job: JobAssign, err: unknown, decode: boolean): JobFailed {
  return {
    type: 'job.failed', jobId: job.jobId, leaseToken: job.leaseToken,
    code: decode ? 'IMAGE_DECODE_FAILED' : 'INFERENCE_FAILED',
    message: String(err instanceof Error ? err.message : err).slice(0, 500),
    // A picture the browser cannot decode will not decode elsewhere; anything else may be this page's fault.
    retryable: !decode,
  }
}
