// Pure lease rules: no I/O, time is a parameter. The job service applies them.

export const RETRY_BASE_MS = 1_000
export const RETRY_CAP_MS = 60_000

/**
 * Delay before retry number `attempt` (1 = first retry) of a retryable error: exponential, capped, with
 * "equal jitter" (half fixed, half random) so a burst of failures does not come back in lockstep.
 */
export function retryDelayMs(attempt: number, random: () => number = Math.random, baseMs = RETRY_BASE_MS, capMs = RETRY_CAP_MS): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(exp / 2 + random() * (exp / 2))
}

/** Liveness from server-side pings: dead once `missed` consecutive pings went unanswered. */
export function isUnresponsive(missedPings: number, allowed = 2): boolean {
  return missedPings >= allowed
}
