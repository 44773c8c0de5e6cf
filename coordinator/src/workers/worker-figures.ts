import type { JobTimings } from '@hivesight/protocol'

/**
 * How fast each worker of this coordinator is, for /api/v1/workers (written to its row with each sweep's
 * touch) and /metrics. Kept by the coordinator that holds the worker's socket, from the results it accepts.
 *
 * - Inference and preparation (decode + resize) times: means weighted by TIMING_ALPHA per result. The last
 *   ~10 results carry ~90% of the weight: a change of flavour or load shows within a few seconds, while one
 *   slow image (a GC pause, a huge PNG) moves the figure by a fifth of its excess only.
 * - Images/s: results in the last RATE_WINDOW_MS, counted in 1 s buckets (constant memory per worker), over
 *   the time those buckets cover, or since the worker joined if that is shorter (at least 1 s, so one early
 *   result is not a spike). A worker that stops falls to 0 within the window.
 */
export const TIMING_ALPHA = 0.2
export const RATE_WINDOW_MS = 10_000
const BUCKET_MS = 1_000
const MIN_SPAN_MS = 1_000

/** Pure: the exponentially weighted mean after one more sample; the first sample is the mean. */
export function ewma(mean: number | null, sample: number, alpha = TIMING_ALPHA): number {
  return mean === null ? sample : mean + alpha * (sample - mean)
}

/** Events per second over the last `windowMs` (RATE_WINDOW_MS); time is always given, so a fake clock drives it. */
export class RecentRate {
  private readonly counts: number[]
  /** The newest bucket, as a count of BUCKET_MS since the epoch. */
  private newest: number

  constructor(private readonly since: number, windowMs = RATE_WINDOW_MS) {
    this.newest = Math.floor(since / BUCKET_MS)
    this.counts = new Array<number>(Math.max(1, Math.round(windowMs / BUCKET_MS))).fill(0)
  }

  add(now: number, n = 1): void {
    this.advance(now)
    this.counts[this.slot(this.newest)]! += n
  }

  perSecond(now: number): number {
    this.advance(now)
    const total = this.counts.reduce((a, b) => a + b, 0)
    const oldestStart = (this.newest - this.counts.length + 1) * BUCKET_MS
    const spanMs = Math.max(MIN_SPAN_MS, now - Math.max(oldestStart, this.since))
    return (total * 1000) / spanMs
  }

  /** Empties the buckets that fell out of the window. A clock that steps back counts into the newest one. */
  private advance(now: number): void {
    const bucket = Math.floor(now / BUCKET_MS)
    if (bucket <= this.newest) return
    for (let b = Math.max(this.newest + 1, bucket - this.counts.length + 1); b <= bucket; b++) this.counts[this.slot(b)] = 0
    this.newest = bucket
  }

  private slot(bucket: number): number {
    const n = this.counts.length
    return ((bucket % n) + n) % n
  }
}

export interface WorkerFigure {
  imagesPerSecond: number
  inferMs: number | null
  prepareMs: number | null
}

type Entry = { rate: RecentRate; inferMs: number | null; prepareMs: number | null }

/** The figures of the workers connected here, by worker id, from join to leave. */
export class WorkerFigures {
  private readonly workers = new Map<string, Entry>()

  start(workerId: string, now: number): void {
    this.workers.set(workerId, { rate: new RecentRate(now), inferMs: null, prepareMs: null })
  }

  forget(workerId: string): void {
    this.workers.delete(workerId)
  }

  /** An accepted result (a refused one was not work done for anybody). */
  record(workerId: string, timings: JobTimings, now: number): void {
    const w = this.workers.get(workerId)
    if (!w) return
    w.rate.add(now)
    w.inferMs = ewma(w.inferMs, timings.inferMs)
    w.prepareMs = ewma(w.prepareMs, timings.decodeMs)
  }

  read(workerId: string, now: number): WorkerFigure | undefined {
    const w = this.workers.get(workerId)
    if (!w) return undefined
    const ms = (x: number | null) => (x === null ? null : round2(x))
    return { imagesPerSecond: round2(w.rate.perSecond(now)), inferMs: ms(w.inferMs), prepareMs: ms(w.prepareMs) }
  }

  /** The figures of those of `ids` that are known here. */
  readAll(ids: Iterable<string>, now: number): Map<string, WorkerFigure> {
    const out = new Map<string, WorkerFigure>()
    for (const id of ids) {
      const f = this.read(id, now)
      if (f) out.set(id, f)
    }
    return out
  }
}

// Hundredths are finer than these figures are steady; they keep the JSON and the rows tidy.
function round2(x: number): number {
  return Math.round(x * 100) / 100
}
