import { readFileSync } from 'node:fs'

/** When the client sends a photo as it is and when model-sized (see model-sized.ts). */
export type ShrinkMode = 'never' | 'always' | 'auto'

/** TCP segments this host has sent and resent so far (Linux: /proc/net/snmp, per network namespace). */
export interface SegmentCounts { out: number; retrans: number }

export function readSegmentCounts(path = '/proc/net/snmp'): SegmentCounts | null {
  try {
    const [names, values] = readFileSync(path, 'utf8').split('\n').filter((l) => l.startsWith('Tcp:')).map((l) => l.split(/\s+/))
    const at = (n: string) => Number(values?.[names?.indexOf(n) ?? -1])
    const counts = { out: at('OutSegs'), retrans: at('RetransSegs') }
    return Number.isFinite(counts.out) && Number.isFinite(counts.retrans) ? counts : null
  } catch {
    return null
  }
}

/**
 * `auto`: photos go as they are while the link keeps up, model-sized (half the bytes) once it does not.
 * The resize costs CPU, which on this 2-core machine the client shares with inference, so "does not" must
 * mean the link and not a busy coordinator:
 * - where the host counts its TCP segments (Linux), over `resentAbove` of those sent since the start were
 *   resent (about the loss rate), after at least 200. Photos went faster here at 0.067–0.2 loss and
 *   model-sized ones at 0.6, hence 0.3 by default;
 * - elsewhere, an upload answered after over `slowMs` (a 110 KB photo needs 9 ms at 100 Mbit/s). That rule
 *   also fires when the coordinator is merely busy: here it did at 0 loss.
 * A started upload keeps its bytes (a retry with other bytes under the same Idempotency-Key is refused,
 * 422), so the switch is for the uploads after it.
 */
export class ShrinkPolicy {
  private shrinking: boolean
  private readonly first: SegmentCounts | null

  constructor(readonly mode: ShrinkMode, private readonly counts: () => SegmentCounts | null = () => null, private readonly o: { resentAbove?: number; slowMs?: number } = {}) {
    this.shrinking = mode === 'always'
    this.first = mode === 'auto' ? counts() : null
  }

  /** Whether the next upload to start goes model-sized. */
  get shrinkNext(): boolean {
    return this.shrinking
  }

  /** An upload ended; true when it made the policy switch. */
  observe(o: { startedAt: number; ackedAt: number | null }): boolean {
    if (this.mode !== 'auto' || this.shrinking) return false
    const now = this.first ? this.counts() : null
    if (this.first && now) {
      const out = now.out - this.first.out
      this.shrinking = out >= 200 && (now.retrans - this.first.retrans) / out > (this.o.resentAbove ?? 0.3)
    } else {
      this.shrinking = (o.ackedAt ?? Infinity) - o.startedAt > (this.o.slowMs ?? 1_000)
    }
    return this.shrinking
  }
}
