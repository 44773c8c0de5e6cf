import type { FaultResult } from './fault-run.ts'

export function formatFaultTable(results: FaultResult[]): string {
  const head = ['fault', 'workers', 'what', 'jobs', 'lost', 'dup', 'results≠1', 'overwr', 'late sent', 'requeue s (p50/max)', 'final states', 'clients saw', 'notes']
  const rows = results.map((r) => [
    r.id, r.fleet, r.title, String(r.jobs), String(r.lost), String(r.duplicated), String(r.badResultCounts), r.fleet === 'simulated' ? String(r.overwrites) : 'n/a', r.staleAnswersSent === null ? 'n/a' : String(r.staleAnswersSent),
    r.requeueMedianS === null ? '–' : `${r.requeueMedianS.toFixed(2)} / ${r.requeueMaxS!.toFixed(2)}`,
    Object.entries(r.byStatus).map(([k, v]) => `${k} ${v}`).join(', '),
    Object.entries(r.clientSaw).map(([k, v]) => `${k}×${v}`).join(' '),
    r.notes.join('; '),
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n')
}
