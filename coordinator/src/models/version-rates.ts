const WINDOW_MS = 60_000

/**
 * Answers per model version over the last minute, and top-1 agreement with the versions it was compared to
 * (shadow runs while a label splits traffic), for the Models screen: this coordinator's share.
 */
export class VersionRates {
  private readonly times = new Map<string, number[]>()
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
    const list = this.times.get(versionId) ?? []
    list.push(now)
    if (list.length > 4096 || (list[0] ?? now) < now - WINDOW_MS) this.times.set(versionId, list.filter((t) => t >= now - WINDOW_MS))
    else this.times.set(versionId, list)
  }

  perSecond(versionId: string, now: number): number {
    const list = this.times.get(versionId)
    if (!list || list.length === 0) return 0
    const recent = list.filter((t) => t >= now - WINDOW_MS)
    if (recent.length === 0) return 0
    return Math.round((recent.length / (Math.max(1_000, now - recent[0]!) / 1000)) * 10) / 10
  }
}
