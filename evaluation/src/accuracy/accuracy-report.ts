import type { JobView } from '@hivesight/protocol'
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
