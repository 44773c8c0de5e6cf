import { RecentRate } from '../workers/worker-figures.ts'

const WINDOW_MS = 60_000

/**
 * Answers per model version over the last minute, and top-1 agreement with the versions it was compared to
 * (shadow runs while a label splits traffic), for the Models screen: this coordinator's share.
 */
export class VersionRates {
  // Counted in 1 s buckets: constant memory and time per answer. (A list of times, filtered once it held
  // 4 096, was filtered again at every answer above ~70 answers/s: dispatch fell from 4–7 k to 1.8 k jobs/s.)
  private readonly rates = new Map<string, RecentRate>()
  private readonly agreement = new Map<string, Map<string, { agreed: number; compared: number }>>()

  /** A job of `version` also ran on `other`: did both say the same class? Kept for both sides. */
  compared(version: string, other: string, agreed: boolean): void {
    for (const [a, b] of [[version, other], [other, version]] as const) {
      const byOther = this.agreement.get(a) ?? new Map<string, { agreed: number; compared: number }>()
      const n = byOther.get(b) ?? { agreed: 0, compared: 0 }
      n.compared++
      if (agreed) n.agreed++
      byOther.set(b, n)
      this.agreement.set(a, byOther)
    }
  }

  agreementOf(version: string): { other: string; agreed: number; compared: number }[] {
    return [...(this.agreement.get(version) ?? new Map<string, { agreed: number; compared: number }>())].map(([other, n]) => ({ other, ...n }))
  }

  record(versionId: string, now: number): void {
    let rate = this.rates.get(versionId)
    if (!rate) this.rates.set(versionId, (rate = new RecentRate(now, WINDOW_MS)))
    rate.add(now)
  }

  /** Answers per second over the last minute (or since the first answer, if later), to 0.1. */
  perSecond(versionId: string, now: number): number {
    const rate = this.rates.get(versionId)
    return rate ? Math.round(rate.perSecond(now) * 10) / 10 : 0
  }
}
