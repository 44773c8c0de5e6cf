import { parseArgs } from 'node:util'
import { ATTACKS } from './attacks.ts'
import { writeChart } from '../report/charts.ts'
import { saveResults } from '../report/results-store.ts'
import { formatSecurityTable, runSecuritySuite, securityMemoryChart } from './security-run.ts'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '10' },
    only: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
})
if (values.help) {
  console.log(`usage: npm run eval:security -- [--rounds 10] [--only H1,W6]

Starts a real coordinator process (API keys, worker tokens, tight limits) and one headless Chromium
worker, runs every attack --rounds times and checks each exact outcome; counts 5xx answers and
error-level logs, checks the process survives, and reports its resident memory after each round.
Attacks: ${ATTACKS.map((a) => `${a.id} ${a.title}`).join('; ')}.`)
  process.exit(0)
}
const rounds = Number(values.rounds)
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error('--rounds must be a positive integer')
  process.exit(2)
}
const report = await runSecuritySuite({ rounds, only: values.only?.split(',').map((s) => s.trim().toUpperCase()), log: (m) => console.error(m) })
console.log(formatSecurityTable(report))
console.log(`memory chart: ${await writeChart('security-memory', securityMemoryChart(report))}`)
for (const row of report.rows) for (const f of row.failures) console.log(`FAILED ${row.attack.id}: ${f}`)
for (const line of report.errorLogs.slice(0, 10)) console.log(`error log: ${line.slice(0, 300)}`)
const { rows: attackRows, ...totals } = report
console.log(`results: ${saveResults('security', 'eval:security', { ...totals, rows: attackRows.map(({ attack, ...r }) => ({ id: attack.id, title: attack.title, ...r })) })}`)
const ok = report.rows.every((r) => r.failures.length === 0) && report.serverErrors === 0 && report.survived && report.errorLogs.length === 0
process.exit(ok ? 0 : 1)
