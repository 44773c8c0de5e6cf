import { randomBytes } from 'node:crypto'
import { sessionName, signSessionToken } from '@hivesight/protocol/session-token'

export interface JoinLink {
  /** Path and fragment: the token rides in the #fragment, which browsers never send to a server or its logs. */
  path: string
  name: string
  /** Epoch ms after which the link admits no new session. */
  expiresAt: number
}

/**
 * A link for one volunteer tab: a join token (untrusted worker, one live session) named after `label`
 * plus a random suffix, so every link is its own token.
 */
export function mintJoinLink(joinSecret: string, label: string, hours: number, nowMs: number): JoinLink {
  const name = `${sessionName(label).slice(0, 48)}-${randomBytes(6).toString('base64url').replace(/[^A-Za-z0-9]/g, 'x')}`
  const expires = Math.floor(nowMs / 1000) + Math.round(hours * 3600)
  const token = signSessionToken(joinSecret, { kind: 'join', name, expires })
  return { path: `/worker#token=${token}`, name, expiresAt: expires * 1000 }
}
