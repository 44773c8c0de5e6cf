// Pure rules for what a worker connection may do; worker-socket.ts applies them.
import { verifySessionToken } from '@hivesight/protocol/session-token'
import { sameSecret } from '../auth/same-secret.ts'
import { credentialIdentity, parseWorkerCredential } from '../auth/worker-credentials.ts'
import { networkOf } from '../trust/verification.ts'
import type { WorkerTrust } from '../workers/worker-registry.ts'

export interface WorkerAccessPolicy {
  mode: 'keys' | 'open'
  /** Secrets that session tokens are derived from (null = that kind is disabled). */
  workerToken: string | null
  joinToken: string | null
}

export type Admission =
  | { ok: true; trusted: boolean; /** one live session per token: its key */ session?: string; name?: string; /** a VM credential's name */ credential?: string }
  | { ok: false; reason: string }

/**
 * A worker session token (derived from WORKER_TOKEN) → trusted runtime; a join token (minted from
 * JOIN_TOKEN) → untrusted volunteer tab. The secrets themselves are refused: they must never travel in a
 * page. Open mode (chosen explicitly and logged) takes tokenless workers at their word, as it does clients.
 */
export function admitWorker(policy: WorkerAccessPolicy, token: string | undefined, nowMs: number): Admission {
  if (token === undefined || token === '') {
    return policy.mode === 'open' ? { ok: true, trusted: true } : { ok: false, reason: 'a worker token is required' }
  }
  // A VM's own credential: checked against the database when the worker joins (worker-sessions.ts).
  const credential = parseWorkerCredential(token)
  if (credential) return { ok: true, trusted: true, session: token, name: credential.name, credential: credential.name }
  if (sameSecret(token, policy.workerToken) || sameSecret(token, policy.joinToken)) {
    return { ok: false, reason: 'that is a secret, not a session token: derive one (the runtime does) or mint a join link' }
  }
  const check = verifySessionToken(token, { worker: policy.workerToken, join: policy.joinToken }, nowMs)
  if (!check.ok) return policy.mode === 'open' ? { ok: true, trusted: true } : check
  return { ok: true, trusted: check.claims.kind === 'worker', session: token, name: check.claims.name }
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

/**
 * Who an admitted worker is. Keys mode: trusted only with a runtime's session token. Open mode has no
 * secrets: a headless runtime page counts as trusted and a browser tab as a volunteer, as they say of
 * themselves; a join link makes a volunteer either way. A volunteer without a link is known by its network.
 */
export function trustOf(admission: Extract<Admission, { ok: true }>, mode: 'keys' | 'open', kind: 'headless' | 'browser', remote: string | null): WorkerTrust {
  const network = networkOf(remote)
  const trusted = admission.trusted && (admission.session !== undefined || (mode === 'open' && kind === 'headless'))
  const identity = admission.credential ? credentialIdentity(admission.credential) : admission.name ?? (trusted ? `worker:${remote ?? 'unknown'}` : `net:${network ?? remote ?? 'unknown'}`)
  return { trusted, identity, network }
}
