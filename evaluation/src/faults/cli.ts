import { parseArgs } from 'node:util'
import { FAULTS } from './catalogue.ts'
import { runFault, type FaultResult } from './fault-run.ts'
import { writeChart } from '../report/charts.ts'
import { formatFaultTable, requeueChart } from './fault-table.ts'
import { ensureIproute2, ensureNftables, isRoot } from '../harness/needs.ts'
import { saveResults } from '../report/results-store.ts'

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '300' },
    workers: { type: 'string', default: '3' },
    fleet: { type: 'string', default: 'chromium' },
    only: { type: 'string' },
    'database-url': { type: 'string', default: process.env.DATABASE_URL },
    help: { type: 'boolean', short: 'h', default: false },
  },
})
if (values.help) {
  console.log(`usage: npm run eval:faults -- [--jobs 300] [--workers 3] [--fleet chromium|simulated] [--only F1,F5] [--database-url mysql://…]

Runs a real coordinator process and workers (real worker runtimes with headless Chromium, or simulated
protocol peers for speed), injects each fault during a run of --jobs uploads
(clients retry with Idempotency-Key), waits for every job to finish, and checks the whole history:
lost, duplicated, succeeded jobs without a stored result and (simulated workers only) answers overwritten
by a stale one must all be 0; jobs run again and answers refused as stale are counted. Faults: ${FAULTS.map((f) => `${f.id} (${f.title})`).join(', ')}.`)
  process.exit(0)
}
const only = values.only?.split(',').map((s) => s.trim().toUpperCase())
const chosen = FAULTS.filter((f) => !only || only.includes(f.id))
const results: FaultResult[] = []
const skipped: { id: string; why: string }[] = []
const errors: { id: string; error: string }[] = []
for (const fault of chosen) {
  // A fault whose tools are missing (and cannot be installed) is skipped with a message; the others still run.
  const why = fault.isolatedWorker ? (isRoot() ? ensureIproute2() ?? ensureNftables() : 'needs root (a network namespace and nftables)') : null
  if (why) {
    console.log(`${fault.id}: ${fault.title}: skipped, ${why}`)
    skipped.push({ id: fault.id, why })
    continue
  }
  console.log(`${fault.id}: ${fault.title} (${values.jobs} uploads)…`)
  const fleet = values.fleet === 'simulated' ? 'simulated' : 'chromium'
  try {
    results.push(await runFault(fault, { jobs: Number(values.jobs), workers: Number(values.workers), fleet, timeScale: 1, databaseUrl: values['database-url'], log: (m) => console.log(`  ${m}`) }))
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err)
    console.log(`${fault.id} failed: ${error}`)
    errors.push({ id: fault.id, error })
  }
}
if (results.length > 0) console.log(`\n${formatFaultTable(results)}`)
for (const s of skipped) console.log(`${s.id} skipped: ${s.why}`)
for (const e of errors) console.log(`${e.id} did not finish: ${e.error}`)
if (results.some((r) => r.requeueMaxS !== null)) console.log(`chart: ${await writeChart('faults-requeue', requeueChart(results))}`)
console.log(`results: ${saveResults('faults', 'eval:faults', { results, skipped, errors })}`)
const bad = results.filter((r) => r.lost + r.duplicated + r.noResult + r.overwrites > 0)
process.exit(bad.length > 0 || errors.length > 0 ? 1 : 0)
