import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Worker session tokens: `hs1.<kind>.<name>.<expires>.<mac>`, an HMAC-SHA256 over the rest, keyed with the
 * coordinator's WORKER_TOKEN (kind `w`, trusted headless runtime) or JOIN_TOKEN (kind `j`, untrusted
 * volunteer tab). The secrets never enter a page: runtimes derive one token per page, the coordinator mints
 * join links. Each token admits one live session at a time. Node-only (node:crypto); pages just carry them.
 */
export type SessionKind = 'worker' | 'join'

export interface SessionClaims {
  kind: SessionKind
  /** Who this session is: shown as the worker's name. */
  name: string
  /** Unix seconds; 0 = does not expire. */
  expires: number
}

const VERSION = 'hs1'
const KIND_CODE: Record<SessionKind, string> = { worker: 'w', join: 'j' }
const NAME = /^[A-Za-z0-9_-]{1,64}$/

/** A name that fits a token: other characters become '-', at most 64 of them. */
export function sessionName(raw: string): string {
  return raw.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64) || 'worker'
}

function mac(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url')
}

export function signSessionToken(secret: string, claims: SessionClaims): string {
  if (!NAME.test(claims.name)) throw new Error(`session name must match ${NAME} (got ${JSON.stringify(claims.name)})`)
  if (!Number.isInteger(claims.expires) || claims.expires < 0) throw new Error('expires must be unix seconds or 0')
  const payload = `${VERSION}.${KIND_CODE[claims.kind]}.${claims.name}.${claims.expires}`
  return `${payload}.${mac(secret, payload)}`
}

export type TokenCheck = { ok: true; claims: SessionClaims } | { ok: false; reason: string }

/** Checks shape, MAC (constant time) and expiry; `secrets` holds the configured ones (null = kind disabled). */
export function verifySessionToken(token: string, secrets: Record<SessionKind, string | null>, nowMs: number): TokenCheck {
  const parts = token.split('.')
  if (parts.length !== 5 || parts[0] !== VERSION) return { ok: false, reason: 'not a session token' }
  const [, code, name = '', expiresText = '', given = ''] = parts
  const kind = (Object.keys(KIND_CODE) as SessionKind[]).find((k) => KIND_CODE[k] === code)
  if (!kind || !NAME.test(name) || !/^\d{1,12}$/.test(expiresText)) return { ok: false, reason: 'not a session token' }
  const secret = secrets[kind]
  if (!secret) return { ok: false, reason: `${kind} tokens are not enabled on this coordinator` }
  const expected = Buffer.from(mac(secret, parts.slice(0, 4).join('.')))
  const actual = Buffer.from(given)
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return { ok: false, reason: 'unknown worker token' }
  const expires = Number(expiresText)
  if (expires !== 0 && expires * 1000 <= nowMs) return { ok: false, reason: 'token expired' }
  return { ok: true, claims: { kind, name, expires } }
}
