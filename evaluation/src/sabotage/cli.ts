import { parseArgs } from 'node:util'
import type { TopLevelSpec } from 'vega-lite'
import { writeChart } from '../report/charts.ts'
import { Progress } from '../report/progress.ts'
import { saveResults } from '../report/results-store.ts'
import { runSabotage, type SabotageOptions, type SabotageResult } from './sabotage-sim.ts'

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '200' },
    trusted: { type: 'string', default: '4' },
    saboteurs: { type: 'string', default: '0.2' },
    'lie-rate': { type: 'string', default: '0.3' },
    jobs: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    sweep: { type: 'boolean', default: true },
    help: { type: 'boolean', short: 'h', default: false },
  },
  allowNegative: true,
})
if (values.help) {
  console.log(`usage: npm run eval:sabotage -- [--workers 200] [--trusted 4] [--saboteurs 0.2] [--lie-rate 0.3] [--jobs 10000] [--seed 1] [--no-sweep]

Simulates volunteer tabs (a third of the saboteurs lie steadily, a third only after 60 honest answers, a
third collude on the same wrong answer) and a few trusted workers, with the coordinator's own rules for
quorum, known-answer spot checks and quarantine. Prints the wrongly accepted rate and the compute overhead
(inferences per job) for each policy, sweeps saboteur shares and draws the curve; the last line is the
default policy's figures as JSON.`)
  process.exit(0)
}

function number(name: string, text: string, min: number, max: number): number {
  const n = Number(text)
  if (!Number.isFinite(n) || n < min || n > max) {
    console.error(`--${name} must be a number from ${min} to ${max}, not ${JSON.stringify(text)}`)
    process.exit(2)
  }
  return n
}

const base: SabotageOptions = {
  volunteers: Math.round(number('workers', values.workers, 1, 100_000)),
  trusted: Math.round(number('trusted', values.trusted, 0, 10_000)),
  saboteurs: number('saboteurs', values.saboteurs, 0, 1),
  lieRate: number('lie-rate', values['lie-rate'], 0, 1),
  jobs: Math.round(number('jobs', values.jobs, 1, 10_000_000)),
  policy: 'quorum',
  spotChecks: true,
  seed: Math.round(number('seed', values.seed, 0, 2 ** 31)),
}

const POLICIES = [
  { name: 'quorum + spot checks (default)', policy: 'quorum', spotChecks: true },
  { name: 'quorum only', policy: 'quorum', spotChecks: false },
  { name: 'spot checks only', policy: 'accept', spotChecks: true },
  { name: 'believe volunteers', policy: 'accept', spotChecks: false },
] as const

const pct = (x: number) => `${(100 * x).toFixed(2)} %`
const line = (name: string, r: SabotageResult) =>
  `${name.padEnd(32)} wrongly accepted ${pct(r.wrongAccepted).padStart(8)} · overhead ${r.overhead.toFixed(2)}× · quarantined ${r.quarantined}/${r.saboteurs} saboteurs, ${r.honestQuarantined} honest${r.unfinished > 0 ? ` · ${r.unfinished} unfinished` : ''}`

console.log(`${base.volunteers} volunteers (${pct(base.saboteurs)} saboteurs lying on ${pct(base.lieRate)} of their jobs), ${base.trusted} trusted workers, ${base.jobs} jobs`)
const atChosen = new Map<string, SabotageResult>()
for (const p of POLICIES) {
  const r = runSabotage({ ...base, policy: p.policy, spotChecks: p.spotChecks })
  atChosen.set(p.name, r)
  console.log(line(p.name, r))
}

let sweepRows: { saboteurs: number; policy: string; wrongAccepted: number; overhead: number }[] = []
if (values.sweep) {
  const shares = [0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5]
  const progress = new Progress(shares.length * POLICIES.length)
  const rows: { saboteurs: number; policy: string; wrongAccepted: number; overhead: number }[] = []
  for (const saboteurs of shares) {
    for (const p of POLICIES) {
      const r = runSabotage({ ...base, saboteurs, policy: p.policy, spotChecks: p.spotChecks })
      rows.push({ saboteurs, policy: p.name, wrongAccepted: 100 * r.wrongAccepted, overhead: r.overhead })
      progress.tick(`${pct(saboteurs)} saboteurs`)
    }
  }
  progress.end()
  sweepRows = rows
  const panel = (field: 'wrongAccepted' | 'overhead', title: string) => ({
    width: 320, height: 220, mark: { type: 'line' as const, point: true },
    encoding: {
      x: { field: 'saboteurs', type: 'quantitative' as const, title: 'share of volunteers that are saboteurs', axis: { format: '.0%' } },
      y: { field, type: 'quantitative' as const, title },
      color: { field: 'policy', type: 'nominal' as const, title: 'policy' },
    },
  })
  const spec: TopLevelSpec = {
    title: `Volunteer sabotage: ${base.volunteers} volunteers, ${base.trusted} trusted, lie rate ${pct(base.lieRate)}, ${base.jobs} jobs per point`,
    data: { values: rows },
    hconcat: [panel('wrongAccepted', 'wrongly accepted (%)'), panel('overhead', 'inferences per job')],
  }
  console.log(`chart: ${await writeChart('sabotage', spec)}`)
}

saveResults('sabotage', 'eval:sabotage', { base, policies: Object.fromEntries(atChosen), sweep: sweepRows })
const chosen = atChosen.get(POLICIES[0].name)!
console.log(JSON.stringify({ wrongAccepted: chosen.wrongAccepted, overhead: Number(chosen.overhead.toFixed(3)), jobs: chosen.jobs, quarantined: chosen.quarantined }))
