import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Db } from '../db/create-db.ts'
import { countActive } from '../db/job.repository.ts'
import type { Clock } from '../jobs/clock.ts'
import type { ShrinkEvents } from '../images/image-shrinker.ts'
import type { JobMetrics } from '../jobs/job-metrics.ts'
import type { WorkerFigure, WorkerFigures } from '../workers/worker-figures.ts'
import type { WorkerRegistry } from '../workers/worker-registry.ts'

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]
const ACTIVE_COUNT_CAP = 100_000
const WORKER_MS_BUCKETS = [1, 2.5, 5, 10, 20, 30, 50, 75, 100, 250, 500, 1000, 5000]

/** Prometheus metrics of one coordinator, in a registry of its own (tests build many apps in one process). */
export class PrometheusMetrics implements JobMetrics, ShrinkEvents {
  readonly registry = new Registry()
  private readonly uploads = new Counter({ name: 'hivesight_images_accepted_total', help: 'Images accepted (202) for classification', registers: [this.registry] })
  private readonly outcomes = new Counter({ name: 'hivesight_jobs_finished_total', help: 'Jobs that reached a final state', labelNames: ['outcome'], registers: [this.registry] })
  private readonly stale = new Counter({ name: 'hivesight_stale_answers_total', help: 'Worker answers refused: stale lease token, replay or not the holder', registers: [this.registry] })
  private readonly takenBack = new Counter({ name: 'hivesight_leases_taken_back_total', help: 'Leases lost (worker gone, lease expired)', labelNames: ['then'], registers: [this.registry] })
  private readonly queueWait = new Histogram({ name: 'hivesight_dispatch_wait_seconds', help: 'Submit (or requeue) to lease', buckets: LATENCY_BUCKETS, registers: [this.registry] })
  private readonly endToEnd = new Histogram({ name: 'hivesight_job_seconds', help: 'Submit to result accepted', buckets: LATENCY_BUCKETS, registers: [this.registry] })
  private readonly inference = new Histogram({ name: 'hivesight_worker_inference_ms', help: 'Inference time reported by workers', buckets: WORKER_MS_BUCKETS, registers: [this.registry] })
  private readonly perModel = new Counter({ name: 'hivesight_model_results_total', help: 'Results accepted, per model version', labelNames: ['model', 'version'], registers: [this.registry] })
  private readonly perModelInference = new Histogram({ name: 'hivesight_model_inference_ms', help: 'Inference time per model version', labelNames: ['model', 'version'], buckets: WORKER_MS_BUCKETS, registers: [this.registry] })
  private readonly agreement = new Counter({ name: 'hivesight_model_agreement_total', help: 'Shadow runs while a label splits traffic: jobs of a version also run on another, by whether their top-1 agreed', labelNames: ['model', 'version', 'other', 'agreed'], registers: [this.registry] })
  private readonly shrinkTime = new Histogram({ name: 'hivesight_image_shrink_seconds', help: 'Pictures made smaller before dispatch (far too big ones; with SHRINK_IMAGES=all every one made the model input): time per picture', buckets: LATENCY_BUCKETS, registers: [this.registry] })
  private readonly shrinkBytes = new Counter({ name: 'hivesight_image_shrink_bytes_total', help: 'Bytes of shrunk pictures, before and after', labelNames: ['side'], registers: [this.registry] })
  private readonly decode = new Histogram({ name: 'hivesight_worker_decode_ms', help: 'Image decode time reported by workers', buckets: WORKER_MS_BUCKETS, registers: [this.registry] })

  /** A result of this version was accepted (per-version images/s and latency, e.g. for a canary). */
  modelAnswered(model: string, version: number, inferMs: number): void {
    this.perModel.inc({ model, version: String(version) })
    this.perModelInference.observe({ model, version: String(version) }, inferMs)
  }

  modelsCompared(model: string, version: number, other: number, agreed: boolean): void {
    this.agreement.inc({ model, version: String(version), other: String(other), agreed: String(agreed) })
  }

  constructor(db: Db, workers: WorkerRegistry, figures: WorkerFigures, clock: Clock) {
    collectDefaultMetrics({ register: this.registry, prefix: 'hivesight_process_' })
    const registry = this.registry
    // Waiting and running jobs, counted on the index and capped: a scrape costs the same with a million
    // finished jobs. Finished jobs are counted by hivesight_jobs_finished_total (sum it over coordinators).
    new Gauge({
      name: 'hivesight_jobs', help: `Jobs waiting or running, cluster-wide (from the database, capped at ${ACTIVE_COUNT_CAP})`, labelNames: ['status'], registers: [registry],
      async collect() {
        const counts = await countActive(db.kysely, ACTIVE_COUNT_CAP)
        this.set({ status: 'queued' }, counts.queued + counts.delayed)
        this.set({ status: 'running' }, counts.running)
      },
    })
    new Gauge({
      name: 'hivesight_workers_connected', help: 'Workers connected to this coordinator', labelNames: ['kind'], registers: [registry],
      collect() {
        this.reset()
        for (const w of workers.all()) this.inc({ kind: w.hello.kind })
      },
    })
    new Gauge({ name: 'hivesight_jobs_in_flight', help: 'Jobs leased to workers of this coordinator', registers: [registry], collect() { this.set(workers.inFlight) } })
    // One series per worker connected here, rebuilt at each scrape: a worker that left has no line
    // (worker ids are per connection, so keeping old ones would grow without end).
    const perWorker = (name: string, help: string, pick: (f: WorkerFigure) => number | null) => new Gauge({
      name, help, labelNames: ['worker_id', 'worker_name'], registers: [registry],
      collect() {
        this.reset()
        const now = clock.now()
        for (const w of workers.all()) {
          const value = figures.read(w.id, now)
          const v = value && pick(value)
          if (v !== undefined && v !== null) this.set({ worker_id: w.id, worker_name: w.hello.name ?? '' }, v)
        }
      },
    })
    // The histograms hivesight_worker_inference_ms / _decode_ms hold every result; these are each worker's now.
    perWorker('hivesight_worker_images_per_second', 'Results accepted from this worker in the last 10 s, per second', (f) => f.imagesPerSecond)
    perWorker('hivesight_worker_recent_inference_ms', 'Inference time of this worker, ms: exponentially weighted mean of recent results', (f) => f.inferMs)
    perWorker('hivesight_worker_recent_prepare_ms', 'Preparation (decode + resize) time of this worker, ms: exponentially weighted mean of recent results', (f) => f.prepareMs)
  }

  imagesAccepted(n: number): void {
    this.uploads.inc(n)
  }
  dispatched(queueWaitSeconds: number[]): void {
    for (const s of queueWaitSeconds) this.queueWait.observe(s)
  }
  finished(outcome: 'succeeded' | 'failed' | 'dead' | 'canceled', endToEndSeconds?: number): void {
    this.outcomes.inc({ outcome })
    if (endToEndSeconds !== undefined) this.endToEnd.observe(endToEndSeconds)
  }
  shrunk(seconds: number, fromBytes: number, toBytes: number): void {
    this.shrinkTime.observe(seconds)
    this.shrinkBytes.inc({ side: 'in' }, fromBytes)
    this.shrinkBytes.inc({ side: 'out' }, toBytes)
  }
  staleAnswer(): void {
    this.stale.inc()
  }
  leasesTakenBack(requeued: number, dead: number): void {
    if (requeued) this.takenBack.inc({ then: 'requeued' }, requeued)
    if (dead) this.takenBack.inc({ then: 'dead' }, dead)
  }
  workerTimings(decodeMs: number, inferMs: number): void {
    this.decode.observe(decodeMs)
    this.inference.observe(inferMs)
  }
}
