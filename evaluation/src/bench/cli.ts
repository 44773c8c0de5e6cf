import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { DEFAULT_MODEL_DIR, REPO_ROOT } from '@hivesight/coordinator'
import sharp from 'sharp'
import { percentile } from '../accuracy/accuracy-report.ts'
import { writeChart } from '../report/charts.ts'
import { saveResults } from '../report/results-store.ts'
import { Progress } from '../report/progress.ts'
import { bullmqLatencyAtRate, bullmqThroughput, DEFAULT_REDIS_URL, redisReachable } from './bullmq-yardstick.ts'
import { BenchCluster, dispatchLatencyAtRate, dispatchThroughput, type Storage } from './coordinator-throughput.ts'
import { endToEnd } from './endtoend.ts'
import { bigPhotoBench, type BigPhotoFigures } from './big-photos.ts'
import { modelRepositoryBench, type ModelBenchFigures } from './model-repository.ts'
import type { RuntimeFlags } from './e2e-system.ts'
import { multipartBody, uploadsAtConcurrency } from './upload-load.ts'

// `npm run bench`: the figures we design against, measured in one run on this machine, with BullMQ on
// this machine's Redis as the reference (and the student project: 21 uploads/s, 1.3 classifications/s).
const { values } = parseArgs({
  options: {
    uploads: { type: 'string', default: '5000' },
    jobs: { type: 'string', default: '30000' },
    sockets: { type: 'string', default: '200' },
    images: { type: 'string', default: '600', description: 'endtoend: ImageNet images uploaded per run' },
    runs: { type: 'string', default: '1', description: 'endtoend: end-to-end runs (median and all values reported)' },
    'limit-seconds': { type: 'string', default: '15', description: 'endtoend: how long the backend-limit processes predict' },
    // Passed to the worker runtime only when given; otherwise it sizes itself as under `npm start`.
    pages: { type: 'string' },
    threads: { type: 'string' },
    profile: { type: 'string' },
    only: { type: 'string', description: 'uploads,dispatch,latency,bullmq,endtoend,photos,models (classification: the same as endtoend)' },
    'big-photos': { type: 'string', default: '120', description: 'photos: ImageNet photos per pass, each also as a 12 MP copy' },
    'photo-rounds': { type: 'string', default: '3', description: 'photos: rounds of small then 12 MP passes' },
    'model-photos': { type: 'string', description: 'models: photos per pass, each classified twice (default 150; --quick 12)' },
    'model-rounds': { type: 'string', description: 'models: rounds of one-model then two-model passes (default 3; --quick 2)' },
    quick: { type: 'boolean', default: false, description: 'models: small sizes for tests, and no page build (npm test has built it)' },
    dispatch: { type: 'string', default: 'mariadb:1,mariadb:2,mariadb:3,sqlite:1', description: 'storage:coordinators, comma-separated' },
  },
})
const DATASET = process.env.DATASET_DIR ?? resolve(REPO_ROOT, '../shared/datasets/imagenet-val-dev')
const STUDENT = { uploadsPerSecond: 21, classificationsPerSecond: 1.3, secondsPerJob: 3.1 }
const rows: [string, string, string][] = []
// Measured rates side by side, for the charts.
const rates: { metric: string; system: string; perSecond: number }[] = []
const latencies: { rate: string; system: string; quantile: string; ms: number }[] = []
const report = (what: string, figure: string, ratio = '') => {
  rows.push([what, figure, ratio])
  console.log(`  ${what}: ${figure}${ratio ? ` (${ratio})` : ''}`)
}
const bullmq: { perSecond?: number; latency: Map<number, { p50Ms: number; p99Ms: number }> } = { latency: new Map() }
const ours = { dispatch: new Map<string, number>(), latency: new Map<number, { p50Ms: number; p99Ms: number }>() }
const vsBull = (x: number) => (bullmq.perSecond ? `${(x / bullmq.perSecond).toFixed(2)}× BullMQ in this run` : '')
const smallImage = () => sharp({ create: { width: 160, height: 120, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 30 } } }).jpeg({ quality: 80 }).toBuffer()
const tinyImage = () => sharp({ create: { width: 48, height: 32, channels: 3, background: { r: 200, g: 120, b: 40 } } }).png().toBuffer()

async function bullmqYardstick(): Promise<void> {
  console.log(`\nBullMQ on this machine's Redis (${DEFAULT_REDIS_URL}), the reference, in this run`)
  if (!(await redisReachable())) return console.log(`  skipped: Redis not reachable at ${DEFAULT_REDIS_URL}`)
  const progress = new Progress(30_000)
  const t = await bullmqThroughput({ jobs: 30_000, concurrency: 50, onProgress: () => progress.tick() })
  progress.end()
  bullmq.perSecond = t.jobsPerSecond
  rates.push({ metric: 'no-op jobs through the queue /s', system: 'BullMQ (Redis)', perSecond: t.jobsPerSecond })
  report('BullMQ no-op jobs', `${t.jobsPerSecond.toFixed(0)}/s (addBulk first, concurrency 50)`)
  for (const perSecond of [500, 2_000]) {
    const l = await bullmqLatencyAtRate({ perSecond, seconds: 5, concurrency: 50 })
    bullmq.latency.set(perSecond, l)
    latencies.push({ rate: `${perSecond}/s`, system: 'BullMQ add → processor', quantile: 'p50', ms: l.p50Ms }, { rate: `${perSecond}/s`, system: 'BullMQ add → processor', quantile: 'p99', ms: l.p99Ms })
    report(`BullMQ add → processor at ${perSecond}/s`, `p50 ${l.p50Ms.toFixed(1)} ms, p99 ${l.p99Ms.toFixed(1)} ms (achieved ${l.achievedPerSecond.toFixed(0)}/s)`)
  }
}

async function dispatch(): Promise<void> {
  const jobs = Number(values.jobs)
  const sockets = Number(values.sockets)
  const tiny = await tinyImage()
  const configs = values.dispatch.split(',').map((c) => {
    const [storage, n] = c.split(':')
    if (storage !== 'mariadb' && storage !== 'sqlite') throw new Error(`--dispatch: unknown storage "${storage}" (mariadb or sqlite)`)
    // The embedded database is slower by far: fewer jobs keep the run short.
    return { storage: storage as Storage, coordinators: Number(n ?? 1), jobs: storage === 'sqlite' ? Math.min(jobs, 10_000) : jobs }
  })
  for (const c of configs) {
    const label = `${c.coordinators} coordinator${c.coordinators > 1 ? 's' : ''}, ${c.storage === 'mariadb' ? 'MariaDB' : 'embedded SQLite'}`
    console.log(`\nDispatch: ${c.jobs} queued jobs (${tiny.length}-byte images) through ${label}, ${sockets} no-op worker sockets × 4 slots (coordinator processes; workers in this process)`)
    const progress = new Progress(c.jobs)
    const r = await dispatchThroughput({ ...c, sockets, slots: 4, image: tiny, onEach: () => progress.tick() })
    progress.end()
    ours.dispatch.set(label, r.perSecond)
    rates.push({ metric: 'no-op jobs through the queue /s', system: `${c.storage === 'mariadb' ? 'MariaDB' : 'SQLite'} × ${c.coordinators}`, perSecond: r.perSecond })
    report(`jobs dispatched and completed, ${label}`, `${r.perSecond.toFixed(0)}/s (${r.committed} results committed)`, vsBull(r.perSecond))
  }
}

async function latency(): Promise<void> {
  const tiny = await tinyImage()
  for (const perSecond of [500, 2_000]) {
    console.log(`\nUpload → job at a worker at ${perSecond} jobs/s for 5 s (requests of 10 images), 1 coordinator on MariaDB, 200 no-op sockets`)
    const l = await dispatchLatencyAtRate({ storage: 'mariadb', perSecond, seconds: 5, perRequest: 10, sockets: 200, image: tiny })
    ours.latency.set(perSecond, l)
    latencies.push({ rate: `${perSecond}/s`, system: 'Hivesight upload → worker', quantile: 'p50', ms: l.p50Ms }, { rate: `${perSecond}/s`, system: 'Hivesight upload → worker', quantile: 'p99', ms: l.p99Ms })
    const b = bullmq.latency.get(perSecond)
    report(`upload → job at a worker at ${perSecond}/s`, `p50 ${l.p50Ms.toFixed(1)} ms, p99 ${l.p99Ms.toFixed(1)} ms (achieved ${l.achievedPerSecond.toFixed(0)}/s, ${l.samples} jobs, ${l.failed} failed)`,
      b ? `BullMQ add → processor p99 ${b.p99Ms.toFixed(1)} ms in this run` : '')
  }
}

async function uploads(): Promise<void> {
  const n = Number(values.uploads)
  const photo = readFileSync(resolve(DATASET, 'val-orig/ILSVRC2012_val_00000001.JPEG'))
  const small = await smallImage()
  const cases: { storage: Storage; image: Buffer; what: string; n: number }[] = [
    { storage: 'mariadb', image: small, what: `${(small.length / 1024).toFixed(1)} KB JPEG`, n },
    { storage: 'mariadb', image: photo, what: `${(photo.length / 1024).toFixed(0)} KB ImageNet photo`, n: Math.ceil(n / 5) },
    { storage: 'sqlite', image: small, what: `${(small.length / 1024).toFixed(1)} KB JPEG`, n: Math.ceil(n / 2) },
  ]
  for (const c of cases) {
    const where = c.storage === 'mariadb' ? 'MariaDB' : 'embedded SQLite'
    console.log(`\nUploads: ${c.n} single-image uploads of a ${c.what}, 16 clients, 1 coordinator on ${where} (durable before each 202: one commit, shared by concurrent requests)`)
    const cluster = await BenchCluster.start(c.storage, 1)
    try {
      const body = multipartBody(c.image, 'bench.jpg', 'image/jpeg')
      // Warm-up (JIT, pools, the database's caches): the first thousands ran ~20 % slower than the steady state.
      await uploadsAtConcurrency(cluster.urls, body, Math.min(2_000, c.n), 16)
      const progress = new Progress(c.n)
      const r = await uploadsAtConcurrency(cluster.urls, body, c.n, 16, () => progress.tick())
      progress.end()
      rates.push({ metric: 'uploads accepted /s', system: `${c.what.replace(' ImageNet', '')}, ${c.storage === 'mariadb' ? 'MariaDB' : 'SQLite'}`, perSecond: r.perSecond })
      report(`uploads accepted, ${c.what}, ${where}`, `${r.perSecond.toFixed(0)}/s, p50 ${percentile(r.latenciesMs, 50).toFixed(1)} ms, p99 ${percentile(r.latenciesMs, 99).toFixed(1)} ms, ${r.failed} failed`,
        `${(r.perSecond / STUDENT.uploadsPerSecond).toFixed(0)}× the student project`)
    } finally {
      await cluster.stop()
    }
  }
  rates.push({ metric: 'uploads accepted /s', system: 'student project', perSecond: STUDENT.uploadsPerSecond })
}

const positive = (flag: string, v: string | undefined) => {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} must be a positive integer (got ${v})`)
  return n
}

/** The whole system as `npm start` runs it against the backend's limit in this run (issue #10). */
async function endtoend(): Promise<string[]> {
  const flags: RuntimeFlags = { pages: positive('pages', values.pages), threads: positive('threads', values.threads), profile: values.profile }
  return endToEnd({
    images: positive('images', values.images)!, runs: positive('runs', values.runs)!, limitSeconds: positive('limit-seconds', values['limit-seconds'])!,
    flags, dataset: DATASET, modelDir: process.env.MODEL_DIR ?? DEFAULT_MODEL_DIR,
  }, { report, rate: (metric, system, perSecond) => rates.push({ metric, system, perSecond }) })
}

/** 12 MP phone photos against ordinary ones, shrunk on the coordinator and not (issue #23). */
async function photos(): Promise<BigPhotoFigures | undefined> {
  const flags: RuntimeFlags = { pages: positive('pages', values.pages), threads: positive('threads', values.threads), profile: values.profile }
  try {
    const f = await bigPhotoBench({ photos: positive('big-photos', values['big-photos'])!, rounds: positive('photo-rounds', values['photo-rounds'])!, concurrency: 16, dataset: DATASET, flags },
      { report, rate: (metric, system, perSecond) => rates.push({ metric, system, perSecond }) })
    if (f.problems.length > 0) {
      failed.push('photos')
      report('photos: problems', f.problems.slice(0, 5).join('; '))
    }
    return f
  } catch (err) {
    failed.push('photos')
    report('photos', `FAILED: ${err instanceof Error ? err.message : String(err)}`)
    return undefined
  }
}

/** Second model on the same pages (issue #20): throughput two/one, POST → ready, Chromium memory. */
async function models(): Promise<ModelBenchFigures | undefined> {
  const o = {
    photos: positive('model-photos', values['model-photos']) ?? (values.quick ? 12 : 150),
    rounds: positive('model-rounds', values['model-rounds']) ?? (values.quick ? 2 : 3),
    concurrency: 8, dataset: DATASET, modelDir: process.env.MODEL_DIR ?? DEFAULT_MODEL_DIR, quick: values.quick,
  }
  try {
    const f = await modelRepositoryBench(o, { report, rate: (metric, system, perSecond) => rates.push({ metric, system, perSecond }) })
    if (f.problems.length > 0) failed.push('models')
    return f
  } catch (err) {
    failed.push('models')
    report('models', `FAILED: ${err instanceof Error ? err.message : String(err)}`)
    return undefined
  }
}

console.log(`Hivesight bench on ${process.env.HOSTNAME ?? 'this machine'} (${new Date().toISOString()})`)
const parts = (values.only?.split(',') ?? ['bullmq', 'dispatch', 'latency', 'uploads', 'endtoend', 'photos', 'models']).map((p) => (p === 'classification' ? 'endtoend' : p))
const failed: string[] = []
if (parts.includes('bullmq')) await bullmqYardstick()
if (parts.includes('dispatch')) await dispatch()
if (parts.includes('latency')) await latency()
if (parts.includes('uploads')) await uploads()
if (parts.includes('endtoend')) failed.push(...await endtoend())
const photoFigures = parts.includes('photos') ? await photos() : undefined
const modelFigures = parts.includes('models') ? await models() : undefined
console.log('\nsummary')
for (const [what, figure, ratio] of rows) console.log(`  ${what.padEnd(58)} ${figure}${ratio ? `  [${ratio}]` : ''}`)
if (rates.length > 0) {
  console.log(`\nchart: ${await writeChart('bench', {
    title: { text: 'Hivesight bench: rates measured in one run', subtitle: ['per second, log scale; BullMQ on this machine\'s Redis in the same run', 'MariaDB × n: n coordinator processes on one MariaDB, 200 no-op worker sockets'] },
    data: { values: rates },
    facet: { column: { field: 'metric', type: 'nominal', title: null, sort: null } },
    resolve: { scale: { y: 'independent', x: 'independent' } },
    spec: {
      width: 180, height: 260,
      mark: { type: 'bar', tooltip: true },
      encoding: {
        x: { field: 'system', type: 'nominal', title: null, sort: null, axis: { labelAngle: -40, labelLimit: 220 } },
        // Bars on a log scale need an explicit base (1/s); without it they are not drawn.
        y: { field: 'perSecond', type: 'quantitative', scale: { type: 'log', domainMin: 1, nice: true }, title: 'per second (log)' },
        y2: { datum: 1 },
        color: { field: 'system', type: 'nominal', legend: null },
      },
    },
  })}`)
}
if (latencies.length > 0) {
  console.log(`chart: ${await writeChart('bench-latency', {
    title: { text: 'Submit → job at a worker, at fixed rates', subtitle: 'Hivesight: HTTP upload (10 images per request) → job.assign at a no-op worker; BullMQ: add → processor start' },
    data: { values: latencies },
    facet: { column: { field: 'rate', type: 'nominal', title: 'jobs per second' } },
    spec: {
      width: 200, height: 220,
      mark: { type: 'bar', tooltip: true },
      encoding: {
        x: { field: 'system', type: 'nominal', title: null, axis: { labelAngle: -30, labelLimit: 200 } },
        xOffset: { field: 'quantile' },
        y: { field: 'ms', type: 'quantitative', title: 'ms' },
        color: { field: 'quantile', type: 'nominal' },
      },
    },
  })}`)
}
if (failed.length > 0) console.log(`\nfailed: ${failed.join(', ')}`)
console.log(`results: ${saveResults('bench', 'bench', { summary: rows.map(([what, figure, ratio]) => ({ what, figure, ratio })), rates, latencies, photos: photoFigures, models: modelFigures, failed })}`)
process.exit(failed.length > 0 ? 1 : 0)
