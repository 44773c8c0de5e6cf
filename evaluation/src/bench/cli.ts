import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { REPO_ROOT } from '@hivesight/coordinator'
import { SimulatedWorker } from '@hivesight/worker-runtime/simulated'
import { percentile } from '../accuracy/accuracy-report.ts'
import { HivesightClient, mapLimit } from '../client/hivesight-client.ts'
import { readLabelledDataset, spreadSample } from '../dataset/labelled-dataset.ts'
import { CoordinatorProcess } from '../harness/coordinator-process.ts'
import { freePort } from '../harness/free-port.ts'
import { startHeadlessWorkers, startLocalCoordinator, until } from '../harness/local-system.ts'
import { writeChart } from '../report/charts.ts'
import { Progress } from '../report/progress.ts'

// `npm run bench`: the figures we design against, measured in one run on this machine, with ratios to
// the student project (21 uploads/s, 1.3 classifications/s, 3.1 s per job) and the yardsticks in
// ../shared/docs/yardsticks.md (2 single-thread Chromium pages: 55–62 images/s with in-page decode).
const { values } = parseArgs({
  options: {
    uploads: { type: 'string', default: '1000' },
    jobs: { type: 'string', default: '5000' },
    images: { type: 'string', default: '300' },
    pages: { type: 'string', default: '2' },
    only: { type: 'string', description: 'uploads,dispatch,classification' },
  },
})
const DATASET = process.env.DATASET_DIR ?? resolve(REPO_ROOT, '../shared/datasets/imagenet-val-dev')
const STUDENT = { uploadsPerSecond: 21, classificationsPerSecond: 1.3, secondsPerJob: 3.1 }
const rows: [string, string, string][] = []
// Measured and reference rates side by side, for the chart.
const compared: { metric: string; system: string; perSecond: number }[] = []
const compare = (metric: string, ours: number, references: Record<string, number>) => {
  compared.push({ metric, system: 'Hivesight (this run)', perSecond: ours })
  for (const [system, perSecond] of Object.entries(references)) compared.push({ metric, system, perSecond })
}
const report = (what: string, figure: string, ratio: string) => {
  rows.push([what, figure, ratio])
  console.log(`  ${what}: ${figure}${ratio ? ` (${ratio})` : ''}`)
}

async function uploads(): Promise<void> {
  const n = Number(values.uploads)
  console.log(`\n1. Upload acceptance: ${n} single-image uploads, 16 at a time, no workers (fsync + commit before each 202); coordinator in its own process`)
  // The coordinator runs as its own process, as deployed, so the client's work is not counted against it.
  const dataDir = mkdtempSync(join(tmpdir(), 'hivesight-bench-'))
  const coordinator = new CoordinatorProcess({ port: await freePort(), dataDir, env: { LOG_LEVEL: 'warn' } })
  await coordinator.start()
  try {
    const client = new HivesightClient(coordinator.url)
    const path = resolve(DATASET, 'val-orig/ILSVRC2012_val_00000001.JPEG')
    const progress = new Progress(n)
    const t0 = performance.now()
    const times = await mapLimit(Array.from({ length: n }), 16, async () => {
      const t = performance.now()
      await client.submitFiles([path])
      progress.tick()
      return performance.now() - t
    })
    progress.end()
    const rate = n / ((performance.now() - t0) / 1000)
    compare('uploads accepted /s', rate, { 'student project': STUDENT.uploadsPerSecond })
    report('uploads accepted', `${rate.toFixed(0)}/s, p50 ${percentile(times, 50).toFixed(1)} ms, p99 ${percentile(times, 99).toFixed(1)} ms`, `${(rate / STUDENT.uploadsPerSecond).toFixed(0)}× the student project`)
  } finally {
    await coordinator.kill('SIGTERM')
    rmSync(dataDir, { recursive: true, force: true })
  }
}

async function dispatch(): Promise<void> {
  const n = Number(values.jobs)
  console.log(`\n2. Dispatch: ${n} jobs through 4 simulated workers × 8 slots that answer at once (coordinator overhead only)`)
  const system = await startLocalCoordinator()
  try {
    const client = new HivesightClient(system.url)
    const path = resolve(DATASET, 'val-orig/ILSVRC2012_val_00000001.JPEG')
    const perUpload = 50
    await mapLimit(Array.from({ length: n / perUpload }), 4, () => client.submitFiles(Array(perUpload).fill(path)))
    const wsUrl = system.url.replace('http', 'ws') + '/ws/worker'
    const workers = await Promise.all([0, 1, 2, 3].map(() => SimulatedWorker.connect(wsUrl, { slots: 8 })))
    const progress = new Progress(n)
    const t0 = performance.now()
    let elapsed = 0
    await Promise.all(workers.map(async (w) => {
      for (let i = 0; ; i++) {
        const a = await w.assignment(i, 10_000).catch(() => undefined)
        if (!a) return
        w.succeed(a)
        progress.tick()
      }
    }).concat(until(() => system.counters.completed >= n, 120_000, 'all jobs').then(() => {
      elapsed = performance.now() - t0
      workers.forEach((w) => w.kill())
    })))
    progress.end()
    const rate = n / (elapsed / 1000)
    compare('jobs dispatched /s', rate, { 'student project': STUDENT.classificationsPerSecond, 'MariaDB, 1 job/txn': 1_350, 'BullMQ (no-op)': 17_000 })
    report('jobs dispatched and completed', `${rate.toFixed(0)}/s (SQLite, coordinator and workers in one process)`, `${(rate / STUDENT.classificationsPerSecond).toFixed(0)}× the student's dispatch; yardstick: MariaDB one job per transaction 1 350/s, BullMQ 16–18 k/s`)
  } finally {
    await system.close()
  }
}

async function classification(): Promise<void> {
  const n = Number(values.images)
  const pages = Number(values.pages)
  console.log(`\n3. Classification: ${n} ImageNet images, ${pages} headless Chromium page(s), real model`)
  const system = await startLocalCoordinator()
  const t0 = performance.now()
  const pool = await startHeadlessWorkers(system.url, pages)
  try {
    await until(() => system.registry.size === pages, 60_000, 'pages')
    const ready = performance.now() - t0
    const images = spreadSample(readLabelledDataset(DATASET), n)
    const client = new HivesightClient(system.url)
    const progress = new Progress(n)
    const start = performance.now()
    const submitted = await mapLimit(Array.from({ length: Math.ceil(n / 10) }), 4, (_, b) => client.submitFiles(images.slice(b * 10, b * 10 + 10).map((i) => i.path)))
    const ids = submitted.flatMap((s) => s.jobs.map((j) => j.id))
    const jobs = await mapLimit(ids, 32, async (id) => {
      const j = await client.waitFinished(id, 300_000)
      progress.tick()
      return j
    })
    progress.end()
    const wall = (performance.now() - start) / 1000
    const infer = jobs.flatMap((j) => (j.result ? [j.result.inferMs] : []))
    const decode = jobs.flatMap((j) => (j.result ? [j.result.decodeMs] : []))
    const rate = n / wall
    compare('images classified /s', rate, { 'student project': STUDENT.classificationsPerSecond, 'yardstick, 2 pages': 58 })
    report('browser start → pages connected', `${(ready / 1000).toFixed(1)} s`, '')
    report('classified', `${rate.toFixed(1)} images/s`, `${(rate / STUDENT.classificationsPerSecond).toFixed(0)}× the student project; yardstick 55–62/s`)
    report('in-page inference per image', `median ${percentile(infer, 50).toFixed(1)} ms, p95 ${percentile(infer, 95).toFixed(1)} ms`, 'yardstick 28 ms')
    report('in-page decode per image', `median ${percentile(decode, 50).toFixed(1)} ms`, 'yardstick 4.4–5.4 ms')
  } finally {
    await pool.stop()
    await system.close()
  }
}

console.log(`Hivesight bench on ${process.env.HOSTNAME ?? 'this machine'} (${new Date().toISOString()})`)
const parts = values.only?.split(',') ?? ['uploads', 'dispatch', 'classification']
if (parts.includes('uploads')) await uploads()
if (parts.includes('dispatch')) await dispatch()
if (parts.includes('classification')) await classification()
console.log('\nsummary')
for (const [what, figure, ratio] of rows) console.log(`  ${what.padEnd(36)} ${figure}${ratio ? `  [${ratio}]` : ''}`)
console.log(`\nchart: ${await writeChart('bench', {
  title: { text: 'Hivesight bench: measured rates and references', subtitle: 'per second, log scale; references from ../shared/docs/yardsticks.md' },
  data: { values: compared },
  facet: { column: { field: 'metric', type: 'nominal', title: null, sort: null } },
  resolve: { scale: { y: 'independent', x: 'independent' } },
  spec: {
    width: 150, height: 260,
    mark: { type: 'bar', tooltip: true },
    encoding: {
      x: { field: 'system', type: 'nominal', title: null, sort: null, axis: { labelAngle: -40, labelLimit: 180 } },
      // Bars on a log scale need an explicit base (1/s); without it they are not drawn.
      y: { field: 'perSecond', type: 'quantitative', scale: { type: 'log', domainMin: 1, nice: true }, title: 'per second (log)' },
      y2: { datum: 1 },
      color: { field: 'system', type: 'nominal', legend: null },
    },
  },
})}`)
