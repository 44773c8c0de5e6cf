// `npm run eval:report`: the latest saved results of every evaluation command in one Markdown report
// (evaluation/results/report.md) with their plots, beside the student project's figures; then publishes it
// as docs/report.md and refreshes the plots it and the README show (docs/figures/) from the latest runs.
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { REPO_ROOT } from '@hivesight/coordinator'
import type { TopLevelSpec } from 'vega-lite'
import { RESULTS_DIR, writeChart } from './charts.ts'
import { loadResults } from './results-store.ts'
import { accuracySection, benchSection, faultsSection, loadSection, lossBothWaysSection, lossSection, lossVariantsSection, sabotageSection, securitySection, type AccuracyData, type LossData, type Section } from './sections.ts'
import { publishedGoodput, STUDENT } from './student-figures.ts'
import { lossChart } from '../loss/loss-table.ts'

const { values } = parseArgs({ options: { 'no-figures': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } } })
if (values.help) {
  console.log(`usage: npm run eval:report [-- --no-figures]

Reads evaluation/results/*.json (each evaluation command saves its latest run there), writes
evaluation/results/report.md with tables and plots beside the student project's figures; then (not with
--no-figures) publishes it as docs/report.md and copies the latest plots it and the README show into
docs/figures/.`)
  process.exit(0)
}

/** Hivesight beside the student project on the figures both have, as ratios (log scale). */
function versusStudent(): TopLevelSpec | null {
  const values: { what: string; ratio: number }[] = []
  const loss = loadResults<LossData>('loss')?.data
  for (const r of loss?.rows ?? []) {
    const p = publishedGoodput(r.loss)
    if (p !== null && r.loss > 0) values.push({ what: `goodput at ${r.loss} loss`, ratio: r.goodput / p })
  }
  const acc = loadResults<AccuracyData>('accuracy')?.data
  const all = acc?.scores.find((s) => s.subset === 'all')
  if (all) values.push({ what: 'top-1 accuracy', ratio: all.top1 / Math.max(1, all.n) / STUDENT.accuracy })
  if (acc) values.push({ what: 'images classified/s', ratio: acc.imagesPerSecond / STUDENT.classificationsPerS })
  if (values.length === 0) return null
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: 'Hivesight ÷ the student project (1 = the same)', subtitle: 'goodput: our client on the same kind of lossy link, over the published table' },
    width: 420, height: { step: 18 }, data: { values },
    layer: [
      // Bars from 1 (a log scale has no 0 to start them at), labelled with the ratio.
      { mark: { type: 'bar', tooltip: true }, encoding: { y: { field: 'what', type: 'nominal', sort: null, title: null }, x: { field: 'ratio', type: 'quantitative', scale: { type: 'log' }, title: 'ratio (log)' }, x2: { datum: 1 } } },
      { mark: { type: 'text', align: 'left', dx: 4 }, encoding: { y: { field: 'what', type: 'nominal', sort: null }, x: { field: 'ratio', type: 'quantitative' }, text: { field: 'ratio', type: 'quantitative', format: '.1f' } } },
      { mark: { type: 'rule', color: 'red' }, encoding: { x: { datum: 1 } } },
    ],
  }
}

// The loss plots are drawn again from their saved rows, so that a results file merged or mended by hand
// and its plot never disagree.
for (const name of ['loss', 'loss-variants', 'loss-both-ways']) {
  const d = loadResults<LossData>(name)?.data
  if (d) await writeChart(name, lossChart([...d.seedLike, ...d.rows, ...(d.variants ?? [])].sort((a, b) => a.loss - b.loss), d.bothWays))
}

const sections: Section[] = [accuracySection(), benchSection(), lossSection(), lossVariantsSection(), lossBothWaysSection(), loadSection(), faultsSection(), securitySection(), sabotageSection()]
const vs = versusStudent()
const vsPath = vs ? await writeChart('report-vs-student', vs) : null
const fig = (name: string) => (existsSync(resolve(RESULTS_DIR, `${name}.svg`)) ? `![${name}](${name}.svg)` : '')
const md = [
  '# Hivesight evaluation report', '',
  `Generated ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npm run eval:report\` from the latest saved run of each command (evaluation/results/*.json).`, '',
  vsPath ? '![Hivesight over the student project](report-vs-student.svg)\n' : '',
  ...sections.flatMap((s) => [`## ${s.title}`, '', s.ran ? `Run: ${s.ran}.` : '', '', s.body, '', ...s.figures.map(fig).filter(Boolean), '']),
].join('\n').replace(/\n{3,}/g, '\n\n')
const out = resolve(RESULTS_DIR, 'report.md')
writeFileSync(out, md)
console.log(`report: ${out} (${sections.filter((s) => s.ran).length} of ${sections.length} commands have results${sections.some((s) => !s.ran) ? `; not run: ${sections.filter((s) => !s.ran).map((s) => s.command).join('; ')}` : ''})`)

if (!values['no-figures']) {
  // The report as the repository keeps it (docs/report.md), its plots and the README's in docs/figures,
  // each replaced by the latest run's when that is newer.
  const readme = readFileSync(resolve(REPO_ROOT, 'README.md'), 'utf8')
  const inReadme = [...readme.matchAll(/docs\/figures\/([\w-]+)\.svg/g)].map((m) => m[1]!)
  const inReport = [...md.matchAll(/\]\(([\w-]+)\.svg\)/g)].map((m) => m[1]!)
  for (const name of new Set([...inReadme, ...inReport])) {
    const from = resolve(RESULTS_DIR, `${name}.svg`)
    const to = resolve(REPO_ROOT, 'docs/figures', `${name}.svg`)
    if (existsSync(from) && (!existsSync(to) || statSync(from).mtimeMs > statSync(to).mtimeMs)) {
      copyFileSync(from, to)
      console.log(`figure refreshed: docs/figures/${name}.svg`)
    }
  }
  writeFileSync(resolve(REPO_ROOT, 'docs/report.md'), md.replace(/\]\(([\w-]+)\.svg\)/g, '](figures/$1.svg)'))
  console.log('report published: docs/report.md')
}
