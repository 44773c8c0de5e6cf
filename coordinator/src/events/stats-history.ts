/**
 * Pure: the figures of the last `windowMs`, one entry per tick, in a ring of fixed size (so a coordinator that
 * runs for months holds the same few hundred entries). Times only move forward: an entry not newer than the
 * last one (a clock stepped back by a resync) is dropped rather than breaking the order.
 */
export class StatsHistory<T extends { at: number }> {
  private readonly ring: (T | undefined)[]
  /** Index of the oldest entry. */
  private head = 0
  private size = 0

  /** `capacity`: at least the window over the tick (15 min of 2 s ticks: 450), a little more for jitter. */
  constructor(readonly windowMs: number, readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, not ${capacity}`)
    this.ring = new Array<T | undefined>(capacity)
  }

  /** A history for ticks every `tickMs`: room for the whole window plus a tenth. */
  static forTicks<T extends { at: number }>(windowMs: number, tickMs: number): StatsHistory<T> {
    return new StatsHistory<T>(windowMs, Math.ceil((windowMs / tickMs) * 1.1) + 1)
  }

  get length(): number {
    return this.size
  }

  add(entry: T): void {
    const last = this.size > 0 ? this.ring[(this.head + this.size - 1) % this.capacity]! : undefined
    if (last && entry.at <= last.at) return
    if (this.size < this.capacity) {
      this.ring[(this.head + this.size) % this.capacity] = entry
      this.size++
    } else {
      this.ring[this.head] = entry
      this.head = (this.head + 1) % this.capacity
    }
  }

  /** The entries of the window ending at `now`, oldest first; older ones are forgotten. */
  list(now: number): T[] {
    const from = now - this.windowMs
    while (this.size > 0 && this.ring[this.head]!.at < from) {
      this.ring[this.head] = undefined
      this.head = (this.head + 1) % this.capacity
      this.size--
    }
    const out: T[] = []
    for (let i = 0; i < this.size; i++) out.push(this.ring[(this.head + i) % this.capacity]!)
    return out
  }
}
