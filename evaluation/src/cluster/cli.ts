import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { REPO_ROOT } from '@hivesight/coordinator'
import { readLabelledDataset, spreadSample } from '../dataset/labelled-dataset.ts'
import { runCluster } from './cluster-run.ts'

// `npm run eval:cluster`: peer coordinators on one MariaDB with a coordinator killed -9 mid-run and one
// whose clock is ahead; simulated workers (which record every hold) or real Chromium worker runtimes.
const { values } = parseArgs({
  options: {
    fleet: { type: 'string', default: 'chromium' },
    coordinators: { type: 'string', default: '3' },
    jobs: { type: 'string' },
    pages: { type: 'string', default: '1' },
    skew: { type: 'string', default: '20000' },
  },
})
const fleet = values.fleet === 'simulated' ? 'simulated' : 'chromium'
const jobs = Number(values.jobs ?? (fleet === 'chromium' ? 300 : 2_000))
const dataset = process.env.DATASET_DIR ?? resolve(REPO_ROOT, '../shared/datasets/imagenet-val-dev')
const images = fleet === 'chromium' ? spreadSample(readLabelledDataset(dataset), 100).map((i) => i.path) : undefined
console.log(`eval:cluster: ${values.coordinators} coordinators on one MariaDB, ${jobs} jobs, ${fleet} workers`)
const r = await runCluster({
  coordinators: Number(values.coordinators), jobs, imagesPerRequest: 5, fleet, workers: fleet === 'chromium' ? Number(values.pages) : 6, slots: 4,
  skewMs: Number(values.skew), images, log: (m) => console.log(`  ${m}`),
})
const rows: [string, string][] = [
  ['jobs acknowledged', `${r.accepted} (${r.requests} requests)`],
  ['final states', JSON.stringify(r.byStatus)],
  ['lost (acknowledged, not succeeded)', String(r.lost)],
  ['duplicated (a retry made new jobs)', String(r.duplicated)],
  ['jobs in the database', String(r.jobsInDatabase)],
  ['held by two workers at once', r.leasedTwiceAtOnce === null ? 'not observable with Chromium workers' : String(r.leasedTwiceAtOnce)],
  ['IMAGE_MISSING', String(r.imageMissing)],
  ['upload on one coordinator → idle worker on another', `${r.crossWakeMs.toFixed(0)} ms`],
  ['cancel on one coordinator → job.cancel at the worker on another', `${r.crossCancelMs.toFixed(0)} ms`],
  ['clients saw', JSON.stringify(r.clientSaw)],
  ['duration', `${r.seconds.toFixed(0)} s`],
]
for (const [k, v] of rows) console.log(`  ${k.padEnd(66)} ${v}`)
const ok = r.lost === 0 && r.duplicated === 0 && r.imageMissing === 0 && (r.leasedTwiceAtOnce ?? 0) === 0
console.log(ok ? 'PASS' : 'FAIL')
console.log(JSON.stringify(r))
process.exit(ok ? 0 : 1)
