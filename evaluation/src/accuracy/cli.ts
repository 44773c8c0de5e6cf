import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { JobView } from '@hivesight/protocol'
import { HivesightClient, mapLimit } from '../client/hivesight-client.ts'
import { readLabelledDataset, spreadSample } from '../dataset/labelled-dataset.ts'
import { Progress } from '../report/progress.ts'
import { writeChart } from '../report/charts.ts'
import { saveResults } from '../report/results-store.ts'
import { accuracyChart, formatTable, latencyChart, percentile, scoreAccuracy } from './accuracy-report.ts'

const USAGE = `usage: npm run eval:accuracy -- --dataset DIR [--limit N] [--url http://localhost:8080] [--api-key KEY] [--batch 8] [--concurrency 4] [--json FILE]

Submits every image of a labelled folder (labels.csv: filename,wnid,class_index) through the REST API of a
running coordinator (start one with npm start), waits for the results and prints top-1 / top-5 accuracy;
draws evaluation/results/accuracy-by-subset.svg and accuracy-latency.svg.
--limit N takes N images spread evenly over the list, the same ones every time. --api-key (or
HIVESIGHT_API_KEY) for a coordinator in keys mode.`

const { values } = parseArgs({
  options: {
    dataset: { type: 'string' },
    limit: { type: 'string' },
    url: { type: 'string', default: process.env.HIVESIGHT_URL ?? 'http://localhost:8080' },
    batch: { type: 'string', default: '8' },
    concurrency: { type: 'string', default: '4' },
    json: { type: 'string' },
    'api-key': { type: 'string', default: process.env.HIVESIGHT_API_KEY },
    help: { type: 'boolean', short: 'h', default: false },
  },
})
if (values.help || !values.dataset) {
  console.log(USAGE)
  process.exit(values.help ? 0 : 2)
}

const dataset = resolve(values.dataset)
const all = readLabelledDataset(dataset)
const images = values.limit ? spreadSample(all, Number(values.limit)) : all
const batch = Math.max(1, Number(values.batch))
const client = new HivesightClient(values.url.replace(/\/$/, ''), values['api-key'] ? { authorization: `Bearer ${values['api-key']}` } : {})

try {
  await fetch(`${client.baseUrl}/healthz`)
} catch {
  console.error(`no coordinator answers at ${client.baseUrl}. Start one with \`npm start\`, or pass --url.`)
  process.exit(1)
}

console.log(`Hivesight accuracy: ${images.length} images from ${dataset} via ${client.baseUrl}`)
const progress = new Progress(images.length)
const started = performance.now()
const submittedAt: number[] = []
const batches = Array.from({ length: Math.ceil(images.length / batch) }, (_, i) => images.slice(i * batch, (i + 1) * batch))
let hits = 0
const jobs: JobView[] = new Array(images.length)

await mapLimit(batches, Number(values.concurrency), async (group, b) => {
  const t = performance.now()
  const res = await client.submitFiles(group.map((g) => g.path))
  await Promise.all(res.jobs.map(async (submitted, k) => {
    const i = b * batch + k
    submittedAt[i] = t
    const job = await client.waitFinished(submitted.id, 300_000)
    jobs[i] = job
    if (job.result?.predictions[0]?.wnid === images[i]!.wnid) hits++
    progress.tick(`top-1 so far ${((100 * hits) / (progress.done + 1)).toFixed(1)} %`)
  }))
})
progress.end()
const wall = (performance.now() - started) / 1000

const scores = scoreAccuracy(images, jobs)
console.log(`\n${formatTable(scores)}\n`)
const latency = jobs.filter((j) => j.finishedAt).map((j) => j.finishedAt! - j.submittedAt)
const infer = jobs.flatMap((j) => (j.result ? [j.result.inferMs] : []))
const decode = jobs.flatMap((j) => (j.result ? [j.result.decodeMs] : []))
console.log(`${images.length} images in ${wall.toFixed(1)} s = ${(images.length / wall).toFixed(1)} images/s end to end`)
console.log(`latency submit → result: p50 ${percentile(latency, 50)} ms, p95 ${percentile(latency, 95)} ms`)
console.log(`in the worker: decode p50 ${percentile(decode, 50)} ms, inference p50 ${percentile(infer, 50)} ms, p95 ${percentile(infer, 95)} ms`)
if (values.json) {
  writeFileSync(values.json, JSON.stringify({ dataset, url: client.baseUrl, images: images.length, wallSeconds: wall, scores, latency, infer, decode }, null, 2))
  console.log(`details written to ${values.json}`)
}
console.log(`charts: ${await writeChart('accuracy-by-subset', accuracyChart(scores))}, ${await writeChart('accuracy-latency', latencyChart({ 'submit → result': latency, 'inference (page)': infer, 'decode (page)': decode }))}`)
console.log(`results: ${saveResults('accuracy', 'eval:accuracy', { dataset, images: images.length, wallSeconds: wall, imagesPerSecond: images.length / wall, scores, latencyMs: { p50: percentile(latency, 50), p95: percentile(latency, 95) }, inferMsP50: percentile(infer, 50), decodeMsP50: percentile(decode, 50) })}`)
const failed = scores[scores.length - 1]!.failed
process.exit(failed > 0 ? 1 : 0)
