import type { TopLevelSpec } from 'vega-lite'
import type { FaultResult } from './fault-run.ts'

export function formatFaultTable(results: FaultResult[]): string {
  // overwr: only simulated workers answer each attempt differently, so only they can show an overwrite.
  const head = ['fault', 'workers', 'what', 'jobs', 'lost', 'dup', 'no result', 'ran again', 'refused', 'overwr', 'late sent', 'requeue s (p50/max)', 'final states', 'clients saw', 'notes']
  const rows = results.map((r) => [
    r.id, r.fleet, r.title, String(r.jobs), String(r.lost), String(r.duplicated), String(r.noResult), String(r.retried), String(r.refusedAnswers),
    r.fleet === 'simulated' ? String(r.overwrites) : 'n/a', r.staleAnswersSent === null ? 'n/a' : String(r.staleAnswersSent),
    r.requeueMedianS === null ? '–' : `${r.requeueMedianS.toFixed(2)} / ${r.requeueMaxS!.toFixed(2)}`,
    Object.entries(r.byStatus).map(([k, v]) => `${k} ${v}`).join(', '),
    Object.entries(r.clientSaw).map(([k, v]) => `${k}×${v}`).join(' '),
    r.notes.join('; '),
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n')
}

/** Time from a silent worker death to its jobs running again, per fault, beside BullMQ's (yardsticks.md). */
export function requeueChart(results: FaultResult[]): TopLevelSpec {
  const values = [
    ...results.filter((r) => r.requeueMaxS !== null).flatMap((r) => [
      { who: `${r.id} ${r.title}`, seconds: r.requeueMedianS!, stat: 'median' },
      { who: `${r.id} ${r.title}`, seconds: r.requeueMaxS!, stat: 'worst' },
    ]),
    { who: 'BullMQ defaults', seconds: 36, stat: 'best' },
    { who: 'BullMQ lockDuration 4 s', seconds: 5.4, stat: 'median' },
    { who: 'BullMQ lockDuration 4 s', seconds: 7.6, stat: 'worst' },
  ]
  return {
    title: { text: 'Worker lost → its jobs queued again', subtitle: `Hivesight fault runs (${results.map((r) => r.id).join(', ')}) and BullMQ yardsticks; 0 lost, 0 duplicated required` },
    width: 420, height: { step: 18 },
    data: { values },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      y: { field: 'who', type: 'nominal', title: null, sort: null, axis: { labelLimit: 320 } },
      yOffset: { field: 'stat', type: 'nominal' },
      x: { field: 'seconds', type: 'quantitative', title: 'seconds' },
      color: { field: 'stat', type: 'nominal', title: null },
    },
  }
}
