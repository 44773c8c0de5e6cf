import { createHash, timingSafeEqual } from 'node:crypto'

/** Constant time, whatever the lengths: compares digests, never the secrets themselves. */
export function sameSecret(given: string, secret: string | null): boolean {
  if (secret === null) return false
  const digest = (s: string) => createHash('sha256').update(s).digest()
  return timingSafeEqual(digest(given), digest(secret))
}
