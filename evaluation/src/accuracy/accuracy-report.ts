import type { JobView } from '@hivesight/protocol'
import type { TopLevelSpec } from 'vega-lite'
import type { LabelledImage } from '../dataset/labelled-dataset.ts'

export interface SubsetScore {
  subset: string
  n: number
  top1: number
  top5: number
  failed: number
}

/** Pure: top-1/top-5 per subset and overall, from the finished jobs (jobs[i] belongs to images[i]). */
export function scoreAccuracy(images: LabelledImage[], jobs: JobView[]): SubsetScore[] {
  const rows = new Map<string, SubsetScore>()
  const all: SubsetScore = { subset: 'all', n: 0, top1: 0, top5: 0, failed: 0 }
  for (const [i, image] of images.entries()) {
    const job = jobs[i]
    const row = rows.get(image.subset) ?? { subset: image.subset, n: 0, top1: 0, top5: 0, failed: 0 }
    rows.set(image.subset, row)
    const wnids = job?.status === 'succeeded' ? job.result?.predictions.map((p) => p.wnid) ?? [] : []
    for (const r of [row, all]) {
      r.n++
      if (job?.status !== 'succeeded') r.failed++
      if (wnids[0] === image.wnid) r.top1++
      if (wnids.includes(image.wnid)) r.top5++
    }
  }
  return [...[...rows.values()].sort((a, b) => a.subset.localeCompare(b.subset)), all]
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

export function formatTable(scores: SubsetScore[]): string {
  const pct = (k: number, n: number) => (n === 0 ? '–' : `${((100 * k) / n).toFixed(1)} %`)
  const lines = [`${'subset'.padEnd(16)}${'images'.padStart(7)}${'top-1'.padStart(9)}${'top-5'.padStart(9)}${'failed'.padStart(8)}`]
  for (const s of scores) {
    lines.push(`${s.subset.padEnd(16)}${String(s.n).padStart(7)}${pct(s.top1, s.n).padStart(9)}${pct(s.top5, s.n).padStart(9)}${String(s.failed).padStart(8)}`)
  }
  return lines.join('\n')
}

/** Top-1 and top-5 per subset, side by side. */
export function accuracyChart(scores: SubsetScore[]): TopLevelSpec {
  const values = scores.flatMap((s) => [
    { subset: `${s.subset} (${s.n})`, metric: 'top-1', accuracy: s.n ? s.top1 / s.n : 0 },
    { subset: `${s.subset} (${s.n})`, metric: 'top-5', accuracy: s.n ? s.top5 / s.n : 0 },
  ])
  return {
    title: 'Accuracy by subset (MobileNet V2 in headless Chromium)',
    width: 110, height: 240,
    data: { values },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      column: { field: 'subset', type: 'nominal', title: null, sort: null },
      x: { field: 'metric', type: 'nominal', title: null },
      y: { field: 'accuracy', type: 'quantitative', axis: { format: '%' }, scale: { domain: [0, 1] } },
      color: { field: 'metric', type: 'nominal', legend: null },
    },
  }
}

/** Cumulative distributions of latencies (ms, log scale): where the median and the tail are. */
export function latencyChart(series: Record<string, number[]>): TopLevelSpec {
  const values = Object.entries(series).flatMap(([name, xs]) => {
    const sorted = [...xs].filter((x) => x > 0).sort((a, b) => a - b)
    return sorted.map((ms, i) => ({ series: name, ms, fraction: (i + 1) / sorted.length }))
  })
  return {
    title: 'Latency distribution',
    width: 520, height: 260,
    data: { values },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'milliseconds (log scale)' },
      y: { field: 'fraction', type: 'quantitative', axis: { format: '%' }, title: 'share of jobs at or below' },
      color: { field: 'series', type: 'nominal', title: null, legend: { labelLimit: 0 } },
    },
  }
}
