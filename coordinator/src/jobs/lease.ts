// Pure lease rules: no I/O, time is a parameter. The services apply them.

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

/** What the database says about a lease, as far as these decisions care. */
export interface LeaseFacts {
  id: string
  status: string
  lease_token: number
  worker_id: string | null
  attempts: number
  max_attempts: number
}

/** An answer counts only from the current holder quoting the current token of a running job. */
export function isCurrentLease(facts: LeaseFacts | undefined, answer: { token: number; workerId: string }): boolean {
  return facts !== undefined && facts.status === 'running' && Number(facts.lease_token) === answer.token && facts.worker_id === answer.workerId
}

/** What a worker's failure makes of the job: final when it is the image's fault, else retried until attempts run out. */
export function failureOutcome(facts: Pick<LeaseFacts, 'attempts' | 'max_attempts'>, retryable: boolean): 'failed' | 'retry' | 'dead' {
  if (!retryable) return 'failed'
  return Number(facts.attempts) < Number(facts.max_attempts) ? 'retry' : 'dead'
}

/**
 * A lease lost without an answer (worker gone, lease expired): queued again at once, or dead when no attempt
 * is left. A volunteer's lease uses no attempt: a hidden or closed tab is not the image's fault, and a
 * hostile one must not be able to exhaust a job's attempts.
 */
export function splitLostLeases(lost: (Pick<LeaseFacts, 'id' | 'attempts' | 'max_attempts'> & { lease_untrusted?: number })[]): { requeue: string[]; requeueUncounted: string[]; dead: string[] } {
  const out = { requeue: [] as string[], requeueUncounted: [] as string[], dead: [] as string[] }
  for (const l of lost) {
    if (Number(l.lease_untrusted ?? 0) === 1) out.requeueUncounted.push(l.id)
    else (Number(l.attempts) >= Number(l.max_attempts) ? out.dead : out.requeue).push(l.id)
  }
  return out
}

/** Leases held on this coordinator's workers that ran out: the holder is told to drop them. */
export function expiredHeld<T extends { leaseExpiresAt: number }>(held: Iterable<[string, T]>, now: number): string[] {
  const out: string[] = []
  for (const [jobId, h] of held) if (h.leaseExpiresAt <= now) out.push(jobId)
  return out
}
