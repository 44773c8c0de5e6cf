// The end-to-end load as a process of its own (spawned by endtoend.ts), so that the client's CPU is not
// the bench's and shows up like any other client's:
//   node --import tsx evaluation/src/bench/e2e-load.main.ts --url http://127.0.0.1:PORT --dataset DIR --mode throughput|idle|poisson|closed …
// Progress goes to stderr; stdout carries one JSON line, {"type":"done",…} (a LoadSummary) or {"type":"error",…}.
import { parseArgs } from 'node:util'
import { percentile } from '../accuracy/accuracy-report.ts'
import { readLabelledDataset, spreadSample } from '../dataset/labelled-dataset.ts'
import { Progress } from '../report/progress.ts'
import { closedLoop, idle, LoadClient, loadImages, openBatch, openLoop, poissonSchedule, type Trip } from './e2e-load.ts'

export type LoadMode = 'throughput' | 'idle' | 'poisson' | 'closed'
export interface Quantiles { p50: number | null; p95: number | null; p99: number | null; max: number | null }
export interface LoadSummary {
  type: 'done'
  mode: LoadMode
  trips: number
  succeeded: number
  /** Failures by code (the job's error code, its status, or what went wrong on the way). */
  errors: Record<string, number>
  /** First upload sent → last result seen. */
  wallSeconds: number
  /** Succeeded images over `wallSeconds`. */
  imagesPerSecond: number
  /** Poisson: arrivals actually sent per second. */
  achievedPerSecond?: number
  latencyMs: Quantiles
  inferMs: Quantiles
  decodeMs: Quantiles
  top1: { correct: number; total: number }
}

const say = (msg: object) => process.stdout.write(`${JSON.stringify(msg)}\n`)
const quantiles = (xs: number[]): Quantiles => xs.length === 0
  ? { p50: null, p95: null, p99: null, max: null }
  : { p50: percentile(xs, 50), p95: percentile(xs, 95), p99: percentile(xs, 99), max: Math.max(...xs) }

function summarize(mode: LoadMode, trips: Trip[], t0: number, achievedPerSecond?: number): LoadSummary {
  const ok = trips.filter((t) => t.job?.status === 'succeeded' && t.job.result)
  const errors: Record<string, number> = {}
  for (const t of trips) if (t.error) errors[t.error] = (errors[t.error] ?? 0) + 1
  const wallSeconds = (Math.max(t0, ...trips.map((t) => t.doneAt)) - t0) / 1000
  return {
    type: 'done', mode, trips: trips.length, succeeded: ok.length, errors, wallSeconds,
    imagesPerSecond: wallSeconds > 0 ? ok.length / wallSeconds : 0,
    ...(achievedPerSecond === undefined ? {} : { achievedPerSecond }),
    latencyMs: quantiles(trips.filter((t) => !t.error).map((t) => t.latencyMs)),
    inferMs: quantiles(ok.map((t) => t.job!.result!.inferMs)),
    decodeMs: quantiles(ok.map((t) => t.job!.result!.decodeMs)),
    top1: { correct: ok.filter((t) => t.job!.result!.predictions[0]?.wnid === t.image.wnid).length, total: ok.length },
  }
}

try {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      dataset: { type: 'string' },
      mode: { type: 'string', default: 'throughput' },
      images: { type: 'string', default: '600', description: 'how many dataset images (spread over it) to use' },
      count: { type: 'string', default: '40', description: 'idle and closed: how many trips' },
      concurrency: { type: 'string', default: '32' },
      rate: { type: 'string', default: '10', description: 'poisson: arrivals per second' },
      seconds: { type: 'string', default: '20', description: 'poisson: how long' },
      timeout: { type: 'string', default: '600', description: 'seconds before unfinished jobs count as timed out' },
    },
  })
  const mode = values.mode as LoadMode
  if (!values.url || !values.dataset) throw new Error('--url and --dataset are required')
  if (!['throughput', 'idle', 'poisson', 'closed'].includes(mode)) throw new Error(`--mode must be throughput, idle, poisson or closed (got ${mode})`)
  const images = loadImages(spreadSample(readLabelledDataset(values.dataset), Number(values.images)))
  if (images.length === 0) throw new Error(`no images in ${values.dataset}`)
  const client = new LoadClient(values.url, Number(values.concurrency), Date.now() + Number(values.timeout) * 1000)
  const count = Number(values.count)
  const schedule = mode === 'poisson' ? poissonSchedule(Number(values.rate), Number(values.seconds)) : []
  const expected = mode === 'throughput' ? images.length : mode === 'poisson' ? schedule.length : count
  const progress = new Progress(Math.max(1, expected))
  const tick = () => progress.tick(mode)
  const t0 = performance.now()
  let summary: LoadSummary
  if (mode === 'throughput') summary = summarize(mode, await openBatch(client, images, Number(values.concurrency), tick), t0)
  else if (mode === 'idle') summary = summarize(mode, await idle(client, images, count, tick), t0)
  else if (mode === 'closed') summary = summarize(mode, await closedLoop(client, images, count, Number(values.concurrency), tick), t0)
  else {
    const p = await openLoop(client, images, schedule, tick)
    summary = summarize(mode, p.trips, t0, p.achievedPerSecond)
  }
  progress.end()
  client.close()
  say(summary)
  process.exit(0)
} catch (err) {
  say({ type: 'error', message: err instanceof Error ? err.message : String(err) })
  process.exit(1)
}
