import type { SubsetScore } from '../accuracy/accuracy-report.ts'
import type { FaultResult } from '../faults/fault-run.ts'
import { formatFaultTable } from '../faults/fault-table.ts'
import { kneeText, formatLoadTable } from '../load/load-table.ts'
import type { LoadStep } from '../load/sweep.ts'
import type { LossRow } from '../loss/loss-run.ts'
import { formatLossTable } from '../loss/loss-table.ts'
import type { SabotageResult } from '../sabotage/sabotage-sim.ts'
import { loadResults, type SavedResults } from './results-store.ts'
import { publishedGoodput, STUDENT } from './student-figures.ts'

// What each command saves (see its cli.ts); read back loosely typed, as an older run may lack a field.
export interface AccuracyData { images: number; imagesPerSecond: number; scores: SubsetScore[]; latencyMs: { p50: number; p95: number } }
export interface BenchData { summary: { what: string; figure: string; ratio: string }[]; failed: string[] }
export interface LossData { rows: LossRow[]; seedLike: LossRow[]; variants?: LossRow[]; bothWays: boolean; linkMbit: number; imagesPerRate: number; failure?: string }
export interface LoadData { steps: LoadStep[]; knees: { open: LoadStep | null; closed: LoadStep | null }; failure?: string }
export interface FaultsData { results: FaultResult[]; skipped: { id: string; why: string }[]; errors: { id: string; error: string }[] }
export interface SecurityData { rows: { id: string; title: string; passed: number; observed: string; failures: string[] }[]; rounds: number; serverErrors: number; survived: boolean; peakMiB: number; growthMiB: number }
export interface SabotageData { base: { volunteers: number; saboteurs: number; lieRate: number; jobs: number }; policies: Record<string, SabotageResult> }

export interface Section { title: string; command: string; body: string; figures: string[]; ran: string | null }

const pct = (x: number) => `${(100 * x).toFixed(1)} %`
const when = <T>(r: SavedResults<T> | null) => (r ? `${r.at.slice(0, 16).replace('T', ' ')} UTC, \`npm run ${r.command}${r.args.length ? ` -- ${r.args.join(' ')}` : ''}\`` : null)

function section<T>(name: string, title: string, command: string, figures: string[], body: (d: T) => string): Section {
  const saved = loadResults<T>(name)
  return { title, command, figures, ran: when(saved), body: saved ? body(saved.data) : `Not run yet (or from before results were saved): \`npm run ${command}\`.` }
}

export function accuracySection(): Section {
  return section<AccuracyData>('accuracy', 'Accuracy', 'eval:accuracy -- --dataset ../shared/datasets/imagenet-val-dev', ['accuracy-by-subset', 'accuracy-latency'], (d) => {
    const all = d.scores.find((s) => s.subset === 'all')
    const rows = d.scores.map((s) => `| ${s.subset} | ${s.n} | ${pct(s.top1 / Math.max(1, s.n))} | ${pct(s.top5 / Math.max(1, s.n))} | ${s.failed} |`)
    return [`| subset | images | top-1 | top-5 | failed |`, '|---|---|---|---|---|', ...rows, '',
      `Top-1 ${all ? pct(all.top1 / Math.max(1, all.n)) : '–'} against the student project's ${pct(STUDENT.accuracy)} (100 validation images); ${d.imagesPerSecond.toFixed(1)} images/s end to end against its ≤ ${STUDENT.classificationsPerS}/s; submit → result p50 ${d.latencyMs.p50} ms against its ${STUDENT.avgExecutionS[0]}–${STUDENT.avgExecutionS[1]} s.`].join('\n')
  })
}

export function benchSection(): Section {
  return section<BenchData>('bench', 'Benchmarks', 'bench', ['bench', 'bench-latency', 'bench-endtoend'], (d) =>
    ['| what | figure | ratio |', '|---|---|---|', ...d.summary.map((r) => `| ${r.what} | ${r.figure} | ${r.ratio || ''} |`), '',
      `The student project: ${STUDENT.uploadsPerS} uploads/s accepted, ≤ ${STUDENT.classificationsPerS} classifications/s with 4 worker VMs.${d.failed.length ? ` Failed parts: ${d.failed.join(', ')}.` : ''}`].join('\n'))
}

function lossBody(d: LossData): string {
  const all = [...d.seedLike, ...d.rows, ...(d.variants ?? [])].sort((a, b) => a.loss - b.loss)
  const ours = new Map(d.rows.map((r) => [r.loss, r]))
  const vs = d.rows.filter((r) => publishedGoodput(r.loss) !== null).map((r) => `${r.loss}: ${(r.goodput / publishedGoodput(r.loss)!).toFixed(1)}×`)
  const clean = d.rows.every((r) => r.lost === 0 && r.duplicated === 0)
  const high = [...ours.values()].filter((r) => r.loss >= 0.4 && r.loss <= 0.6 && publishedGoodput(r.loss) !== null)
  const twice = high.length > 0 && high.every((r) => r.goodput >= 2 * publishedGoodput(r.loss)!)
  return [`${d.imagesPerRate} images per rate, ${d.linkMbit} Mbit/s, loss ${d.bothWays ? 'both ways' : 'client → coordinator'}.${d.failure ? ` The run stopped early: ${d.failure}` : ''}`, '',
    formatLossTable(all), '',
    `Our goodput over the published one: ${vs.join(', ') || '–'}. Goal 0 lost and 0 duplicated at every rate: ${clean ? 'met' : '**not met**'}; at least twice the published goodput at 0.4–0.6: ${high.length === 0 ? 'not measured' : twice ? 'met' : '**not met**'}.`].join('\n')
}

export const lossSection = (): Section => section<LossData>('loss', 'Packet loss (the student project\'s experiment)', 'eval:loss', ['loss'], lossBody)
export const lossVariantsSection = (): Section => section<LossData>('loss-variants', 'What helps at high loss', 'eval:loss -- --rates 0,0.6 --clients ours,ours-photo,ours-shrunk,ours-no-race,ours-4 --save-as loss-variants', ['loss-variants'], lossBody)
export const lossBothWaysSection = (): Section => section<LossData>('loss-both-ways', 'Packet loss both ways', 'eval:loss -- --both-ways', ['loss-both-ways'], lossBody)

export function loadSection(): Section {
  return section<LoadData>('load', 'Load sweep', 'eval:load', ['load'], (d) =>
    [formatLoadTable(d.steps), '', kneeText(d.knees.open, d.knees.closed), d.failure ? `\nThe sweep stopped early: ${d.failure}` : ''].join('\n'))
}

export function faultsSection(): Section {
  return section<FaultsData>('faults', 'Fault suite', 'eval:faults', ['faults-requeue'], (d) =>
    [d.results.length ? formatFaultTable(d.results) : 'No fault ran.', ...d.skipped.map((s) => `- ${s.id} skipped: ${s.why}`), ...d.errors.map((e) => `- ${e.id} did not finish: ${e.error}`), '',
      `The student project reset a dead worker's jobs blindly after ${STUDENT.deadWorkerResetS} s and lost jobs under packet loss.`].join('\n'))
}

export function securitySection(): Section {
  return section<SecurityData>('security', 'Attack suite', 'eval:security', ['security-memory'], (d) =>
    ['| attack | passed | observed | failures |', '|---|---|---|---|', ...d.rows.map((r) => `| ${r.id} ${r.title} | ${r.passed}/${d.rounds} | ${r.observed.replace(/\|/g, '/').slice(0, 120)} | ${r.failures.length} |`), '',
      `5xx answers ${d.serverErrors}; survived: ${d.survived ? 'yes' : 'no'}; peak memory ${d.peakMiB.toFixed(0)} MiB, growth ${d.growthMiB.toFixed(1)} MiB. The student project had no authentication.`].join('\n'))
}

export function sabotageSection(): Section {
  return section<SabotageData>('sabotage', 'Volunteer sabotage (simulation)', 'eval:sabotage', ['sabotage'], (d) =>
    [`${d.base.volunteers} volunteers, ${pct(d.base.saboteurs)} saboteurs lying on ${pct(d.base.lieRate)} of their jobs, ${d.base.jobs} jobs.`, '',
      '| policy | wrongly accepted | inferences per job | saboteurs quarantined | honest quarantined |', '|---|---|---|---|---|',
      ...Object.entries(d.policies).map(([name, r]) => `| ${name} | ${(100 * r.wrongAccepted).toFixed(2)} % | ${r.overhead.toFixed(2)} | ${r.quarantined} | ${r.honestQuarantined} |`)].join('\n'))
}
