/** Pure: upload → result latencies of the jobs that succeeded in the last `windowMs`, each job once. */
export class LatencyWindow {
  private samples: { id: string; at: number; ms: number }[] = []
  private readonly seen = new Set<string>()

  constructor(private readonly windowMs: number) {}

  add(id: string, at: number, ms: number): void {
    if (this.seen.has(id)) return
    this.seen.add(id)
    this.samples.push({ id, at, ms })
  }

  /** Nearest-rank p50 and p95 over the window ending at `now` (null when it is empty). */
  percentiles(now: number): { p50: number | null; p95: number | null; samples: number } {
    const from = now - this.windowMs
    if (this.samples.some((s) => s.at < from)) {
      const [old, kept] = [this.samples.filter((s) => s.at < from), this.samples.filter((s) => s.at >= from)]
      for (const s of old) this.seen.delete(s.id)
      this.samples = kept
    }
    const sorted = this.samples.map((s) => s.ms).sort((a, b) => a - b)
    return { p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), samples: sorted.length }
  }
}

/** Nearest rank: the smallest value with at least `p` of the values at or below it. */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}
