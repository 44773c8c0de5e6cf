/** When the client sends a photo as it is and when model-sized (see model-sized.ts). */
export type ShrinkMode = 'never' | 'always' | 'auto'

/**
 * `auto`: photos go as they are while the link keeps up; once one upload takes longer than `slowMs` to be
 * acknowledged (or never is), every upload not yet started goes model-sized. At 100 Mbit/s a 110 KB photo
 * needs 9 ms: a second means loss or a slow link, where half the bytes count; on a good link the resize is
 * only CPU. A started upload keeps its bytes: a retry with other bytes under the same Idempotency-Key is
 * refused (422), so the switch is for the uploads after it.
 */
export class ShrinkPolicy {
  private shrinking: boolean

  constructor(readonly mode: ShrinkMode, private readonly slowMs = 1_000) {
    this.shrinking = mode === 'always'
  }

  /** Whether the next upload to start goes model-sized. */
  get shrinkNext(): boolean {
    return this.shrinking
  }

  /** An upload ended; true when it made the policy switch. */
  observe(o: { startedAt: number; ackedAt: number | null }): boolean {
    if (this.mode !== 'auto' || this.shrinking) return false
    this.shrinking = (o.ackedAt ?? Infinity) - o.startedAt > this.slowMs
    return this.shrinking
  }
}
