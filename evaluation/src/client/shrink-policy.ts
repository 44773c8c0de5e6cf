/** When the client sends a photo as it is and when model-sized (see model-sized.ts). */
export type ShrinkMode = 'never' | 'always' | 'auto'

/**
 * `auto`: photos go as they are while the link keeps up; once an upload has been out longer than `slowMs`
 * without an answer, every upload not yet started goes model-sized. At 100 Mbit/s a 110 KB photo needs
 * 9 ms: a second means loss or a slow link, where half the bytes count; on a good link the resize is only
 * CPU. The check is on uploads still out, not only finished ones: at 60 % loss the first answer may come
 * after the whole first round of photos has left. A started upload keeps its bytes: a retry with other
 * bytes under the same Idempotency-Key is refused (422), so the switch is for the uploads after it.
 */
export class ShrinkPolicy {
  private shrinking: boolean
  private readonly out = new Map<string, number>()

  constructor(readonly mode: ShrinkMode, private readonly slowMs = 1_000) {
    this.shrinking = mode === 'always'
  }

  /** Whether the upload starting now goes model-sized; it counts as out from now until `ended`. */
  begin(key: string, now: number): boolean {
    if (this.mode === 'auto' && !this.shrinking) {
      for (const since of this.out.values()) if (now - since > this.slowMs) this.shrinking = true
    }
    this.out.set(key, now)
    return this.shrinking
  }

  ended(key: string): void {
    this.out.delete(key)
  }

  /** True once it sends model-sized. */
  get switched(): boolean {
    return this.shrinking
  }
}
