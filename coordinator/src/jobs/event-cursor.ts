/**
 * Pure: where to read the shared events table from next. Auto-increment ids are handed out at insert
 * time but become visible at commit, so id 11 can be seen before id 10: a gap below the highest id seen
 * is re-read until it appears or is older than `gapWaitMs` (then it was rolled back). Ids already seen are
 * not delivered twice. On Galera the gaps are mostly ids other nodes will never use: see `awaited`.
 */
const MAX_GAP = 1_000

export class EventCursor {
  private highest: number
  private readonly gaps = new Map<number, number>() // missing id → when first missed

  constructor(startAfter: number, private readonly gapWaitMs = 5_000) {
    this.highest = startAfter
  }

  /** Read ids above this. */
  get readAfter(): number {
    let floor = this.highest
    for (const id of this.gaps.keys()) floor = Math.min(floor, id - 1)
    return floor
  }

  /** Takes what a read returned (ascending ids); gives back the ids that are new. */
  accept(ids: number[], now: number): Set<number> {
    const fresh = new Set<number>()
    for (const id of ids) {
      if (id <= this.highest && !this.gaps.has(id)) continue
      if (this.gaps.delete(id) || id > this.highest) fresh.add(id)
      // A jump of thousands is not a commit race (events were pruned, or the table was reset): skip it.
      if (id - this.highest <= MAX_GAP) for (let missing = this.highest + 1; missing < id; missing++) this.gaps.set(missing, now)
      if (id > this.highest) this.highest = id
    }
    for (const [id, since] of this.gaps) if (now - since > this.gapWaitMs) this.gaps.delete(id)
    return fresh
  }

  /** The highest id seen: new rows are read above it, whatever gaps are still awaited. */
  get newestSeen(): number {
    return this.highest
  }

  /**
   * Awaited ids (oldest first, at most `limit`), re-read by id. On Galera every node hands out its own
   * ids (auto_increment_increment = cluster size), so most gaps never fill: reading them by id, apart
   * from the read of new rows, keeps a crowd of such gaps from holding back the news.
   */
  awaited(limit: number): number[] {
    return [...this.gaps.keys()].sort((a, b) => a - b).slice(0, limit)
  }

  get pendingGaps(): number {
    return this.gaps.size
  }
}
