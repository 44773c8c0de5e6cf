import type { TopLevelSpec } from 'vega-lite'
import { publishedGoodput, STUDENT_LOSS_TABLE } from '../report/student-figures.ts'
import type { LossRow } from './loss-run.ts'

const f = (x: number | null, d = 2) => (x === null || !Number.isFinite(x) ? '–' : x.toFixed(d))

/** A Markdown table: per rate and client, the student project's definitions first, then ours. */
export function formatLossTable(rows: LossRow[]): string {
  const head = '| loss | client | goodput (uploads/s) | throughput | published goodput | submitted | accepted | completed | lost | dup | accuracy | avg exec (s) | completed/s end to end | latency p50 / p95 / p99 (s) | attempts | KB/image | model-sized |'
  const sep = `|${'---|'.repeat(17)}`
  const lines = rows.map((r) => `| ${r.loss} | ${r.variant} | ${f(r.goodput)} | ${f(r.throughput)} | ${f(publishedGoodput(r.loss))} | ${r.submitted} | ${r.accepted} | ${r.completed} | ${r.lost} | ${r.duplicated} | ${f(r.accuracy)} | ${f(r.avgExecutionS)} | ${f(r.completedPerS)} | ${[r.latencyMs.p50, r.latencyMs.p95, r.latencyMs.p99].map((x) => f(x === null ? null : x / 1000, 1)).join(' / ')} | ${r.attempts} | ${f(r.bytesPerImage / 1024, 0)} | ${r.shrunk ?? '–'} |`)
  return [head, sep, ...lines].join('\n')
}

/** Goodput against loss, log scale: each client measured here, the published table and the goal. */
export function lossChart(rows: LossRow[], bothWays = false): TopLevelSpec {
  const goal = 'goal: twice the published (0.4–0.6)'
  const values = [
    ...rows.map((r) => ({ loss: r.loss, goodput: Math.max(0.01, r.goodput), client: r.variant })),
    ...STUDENT_LOSS_TABLE.map((r) => ({ loss: r.loss, goodput: r.goodput, client: 'student project, published' })),
    ...STUDENT_LOSS_TABLE.filter((r) => r.loss >= 0.4).map((r) => ({ loss: r.loss, goodput: 2 * r.goodput, client: goal })),
  ]
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `Goodput (accepted uploads/s) against packet loss, ${bothWays ? 'both ways' : 'client → coordinator'}`,
    width: 520, height: 300, data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'loss', type: 'quantitative', title: 'packet loss' },
      y: { field: 'goodput', type: 'quantitative', scale: { type: 'log' }, title: 'goodput (uploads/s, log)' },
      color: { field: 'client', type: 'nominal', legend: { labelLimit: 320 } },
      strokeDash: { condition: { test: `datum.client === '${goal}'`, value: [4, 4] }, value: [1, 0] },
    },
  }
}
