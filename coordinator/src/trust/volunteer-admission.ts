// Pure rule: may this volunteer identity open a session now? worker-sessions.ts reads the rows and applies it.

export const MAX_VOLUNTEER_SLOTS = 2

export interface AdmissionFacts {
  /** The join link it came with; null when it came without one (open mode). */
  link: { expires_at: number; revoked_at: number | null; max_sessions: number } | null | 'unknown'
  quarantinedAt: number | null
}

export type VolunteerAdmission = { ok: true; sessions: number } | { ok: false; reason: string }

/** Refused when quarantined, or its link is unknown, revoked or expired; `sessions` = tabs the link admits at once. */
export function admitVolunteer(facts: AdmissionFacts, now: number): VolunteerAdmission {
  if (facts.quarantinedAt !== null) return { ok: false, reason: 'this volunteer is quarantined: one of its answers was wrong' }
  if (facts.link === 'unknown') return { ok: false, reason: 'unknown join link (made before links were kept, or deleted): ask for a new one' }
  if (facts.link === null) return { ok: true, sessions: 1 }
  if (facts.link.revoked_at !== null) return { ok: false, reason: 'this join link was revoked' }
  if (facts.link.expires_at <= now) return { ok: false, reason: 'this join link has expired' }
  return { ok: true, sessions: facts.link.max_sessions }
}

/** A tab holds at most a few jobs: what it can spoil or sit on is small. */
export function volunteerSlots(asked: number): number {
  return Math.max(1, Math.min(asked, MAX_VOLUNTEER_SLOTS))
}
