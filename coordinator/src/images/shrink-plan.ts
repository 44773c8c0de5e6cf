import type { Preprocessing } from '@hivesight/protocol'

// A 12 MP phone photo costs a worker page 130–330 ms to decode for a 224 × 224 input, where a 500 × 375
// photo costs 5–14 ms. Pictures far bigger than any model needs are shrunk once, on the coordinator, before
// they go out: every page (and every browser) then gets the same small picture. Pure rules here.

/** How many pixels the model's resize reads on the picture's shorter side. */
export function neededShorterSide(p: Preprocessing): number {
  return p.resize === 'shorter-side-then-centre-crop' ? Math.max(p.resizeShorterTo ?? p.inputSize, p.inputSize) : p.inputSize
}

export interface ShrinkRule {
  /**
   * Shrunk pictures keep this many times the needed shorter side. 1: the page's own resize becomes a copy
   * and Lanczos (with the decoder's DCT scaling) does it all — 21 ms of coordinator CPU for a 12 MP JPEG
   * here, against 29–33 ms for 2× (683 × 512) and ~70 ms for the full decode a page would do.
   */
  keep: number
  /** Shrink when the shorter side is at least this many times the needed one… */
  over: number
  /** …or when the picture has more pixels than this and can be made smaller at all. */
  maxPixels: number
}

export const SHRINK_RULE: ShrinkRule = { keep: 1, over: 4, maxPixels: 4_000_000 }

/**
 * The shorter side to shrink a width × height picture to, or null to send it as it is. Ordinary photos (an
 * ImageNet validation image is ~500 × 375) are left alone, so their answers do not change.
 */
export function planShrink(width: number, height: number, needed: number, rule: ShrinkRule = SHRINK_RULE): number | null {
  const shorter = Math.min(width, height)
  const target = Math.ceil(rule.keep * needed)
  if (shorter <= target) return null
  return shorter >= rule.over * needed || width * height > rule.maxPixels ? target : null
}
