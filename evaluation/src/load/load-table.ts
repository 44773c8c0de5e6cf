import type { TopLevelSpec } from 'vega-lite'
import type { LoadStep } from './sweep.ts'

const f = (x: number | null, d = 1) => (x === null || !Number.isFinite(x) ? '–' : x.toFixed(d))

export function formatLoadTable(steps: LoadStep[]): string {
  const head = '| loop | offered | sent/s | throughput (answers/s) | goodput (images/s) | p50 / p95 / p99 (ms) | 429 | 503 | other failures |'
  const rows = steps.map((s) => `| ${s.mode} | ${s.offered}${s.mode === 'open' ? '/s' : ' clients'} | ${f(s.achieved)} | ${f(s.throughput)} | ${f(s.goodput)} | ${f(s.p50, 0)} / ${f(s.p95, 0)} / ${f(s.p99, 0)} | ${s.s429} | ${s.s503} | ${s.failed - s.s429 - s.s503} |`)
  return [head, `|${'---|'.repeat(9)}`, ...rows].join('\n')
}

export function kneeText(open: LoadStep | null, closed: LoadStep | null): string {
  return [
    open
      ? `knee (open loop): ${open.offered}/s, the highest rate kept up with (goodput ${f(open.goodput)}/s ≥ 90 % of arrivals, p95 ${f(open.p95, 0)} ms ≤ 3× the lowest rate's)`
      : 'knee (open loop): not found (even the lowest rate was not kept up with)',
    closed
      ? `knee (closed loop): ${closed.offered} clients, the fewest reaching 90 % of the best goodput (${f(closed.goodput)}/s, p50 ${f(closed.p50, 0)} ms)`
      : 'knee (closed loop): no closed-loop steps',
  ].join('\n')
}

/** Goodput and p95 against the offered load, open loop and closed loop side by side. */
export function loadChart(steps: LoadStep[]): TopLevelSpec {
  const values = steps.flatMap((s) => [
    { mode: s.mode === 'open' ? 'open loop (arrivals/s)' : 'closed loop (clients)', offered: s.offered, metric: 'goodput (images/s)', value: s.goodput },
    { mode: s.mode === 'open' ? 'open loop (arrivals/s)' : 'closed loop (clients)', offered: s.offered, metric: 'p95 upload → result (ms)', value: s.p95 ?? 0 },
  ])
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Load sweep: goodput and p95 latency against offered load',
    data: { values },
    facet: { row: { field: 'metric', type: 'nominal', title: null }, column: { field: 'mode', type: 'nominal', title: null } },
    resolve: { scale: { x: 'independent', y: 'independent' } },
    spec: {
      width: 260, height: 160, mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'offered', type: 'quantitative', title: 'offered load' },
        y: { field: 'value', type: 'quantitative', title: null },
      },
    },
  }
}
