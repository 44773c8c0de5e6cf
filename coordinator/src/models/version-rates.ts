const WINDOW_MS = 60_000

/** Answers per model version over the last minute, for the Models screen (this coordinator's share). */
export class VersionRates {
  private readonly times = new Map<string, number[]>()

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
