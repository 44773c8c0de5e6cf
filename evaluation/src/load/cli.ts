import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { REPO_ROOT } from '@hivesight/coordinator'
import { writeChart } from '../report/charts.ts'
import { saveResults } from '../report/results-store.ts'
import { formatLoadTable, kneeText, loadChart } from './load-table.ts'
import { closedKnee, openKnee, runSweep, type LoadStep } from './sweep.ts'

const { values } = parseArgs({
  options: {
    dataset: { type: 'string', default: resolve(REPO_ROOT, '../shared/datasets/imagenet-val-dev') },
    images: { type: 'string', default: '200' },
    rates: { type: 'string', default: '5,10,15,20,25,30,40' },
    seconds: { type: 'string', default: '15' },
    concurrencies: { type: 'string', default: '1,2,4,8,16,32' },
    'trips-per-client': { type: 'string', default: '6' },
    help: { type: 'boolean', short: 'h', default: false },
  },
})
if (values.help) {
  console.log(`usage: npm run eval:load -- [--rates 5,10,15,20,25,30,40] [--seconds 15] [--concurrencies 1,2,4,8,16,32]
                     [--trips-per-client 6] [--images 200] [--dataset DIR]

Starts the system as npm start runs it (coordinator with embedded SQLite, headless Chromium workers, each a
process) and loads it through the REST API from a load process of its own: open loop (Poisson arrivals at
each --rates for --seconds; each arrival one upload and its result by ?wait= long-poll), then closed loop
(each of --concurrencies clients uploading its next image once it has the last one's result). Per step:
throughput (answers/s), goodput (images classified/s), upload → result p50/p95/p99, 429s and 503s; then
the knee. About 4 minutes with the defaults; longer runs: more --seconds, more rates.`)
  process.exit(0)
}

const nums = (s: string) => s.split(',').map(Number).filter((x) => x > 0)
const steps: LoadStep[] = []
let failure: string | null = null
try {
  await runSweep({
    dataset: values.dataset, images: Number(values.images), rates: nums(values.rates), seconds: Number(values.seconds),
    concurrencies: nums(values.concurrencies), tripsPerClient: Number(values['trips-per-client']), log: (m) => console.error(m),
  }, (s) => {
    steps.push(s)
    console.error(`  → goodput ${s.goodput.toFixed(1)}/s, p50 ${s.p50?.toFixed(0)} ms, p99 ${s.p99?.toFixed(0)} ms, 429×${s.s429}, 503×${s.s503}, failed ${s.failed}`)
  })
} catch (err) {
  // A partial sweep still prints and draws what it has.
  failure = err instanceof Error ? err.message : String(err)
  console.error(`eval:load stopped early: ${failure}`)
}
const knees = { open: openKnee(steps), closed: closedKnee(steps) }
if (steps.length > 0) {
  console.log(`\n${formatLoadTable(steps)}\n\n${kneeText(knees.open, knees.closed)}`)
  console.log(`chart: ${await writeChart('load', loadChart(steps))}`)
  console.log(`results: ${saveResults('load', 'eval:load', { steps, knees, ...(failure ? { failure } : {}) })}`)
}
process.exit(failure ? 1 : 0)
