// Pure rules for what a worker connection may do; worker-socket.ts applies them.

export interface WorkerAccessPolicy {
  mode: 'keys' | 'open'
  workerToken: string | null
  joinToken: string | null
}

export type Admission = { ok: true; trusted: boolean } | { ok: false; reason: string }

/**
 * Worker token → trusted runtime; join token → untrusted volunteer tab. Open mode (chosen explicitly and
 * logged) takes every worker at its word, as it does every client.
 */
export function admitWorker(policy: WorkerAccessPolicy, token: string | undefined): Admission {
  if (token !== undefined && policy.workerToken && token === policy.workerToken) return { ok: true, trusted: true }
  if (token !== undefined && policy.joinToken && token === policy.joinToken) return { ok: true, trusted: false }
  if (policy.mode === 'open') return { ok: true, trusted: true }
  return { ok: false, reason: token === undefined ? 'a worker token is required' : 'unknown worker token' }
}

/** Pages of the coordinator's own origin, or of a listed one; clients that send no Origin are not browsers. */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: string[]): boolean {
  if (origin === undefined) return true
  try {
    const url = new URL(origin)
    return url.host === host || allowed.includes(url.origin)
  } catch {
    return false
  }
}

/** A token bucket: `rate` messages a second, bursts up to `burst`. */
export class MessageBudget {
  private tokens: number
  private last: number
  constructor(private readonly rate: number, private readonly burst: number, now: number) {
    this.tokens = burst
    this.last = now
  }
  take(now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate)
    this.last = now
    if (this.tokens < 1) return false
    this.tokens--
    return true
  }
}
