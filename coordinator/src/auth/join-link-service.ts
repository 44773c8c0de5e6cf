import type { JoinLinkEntry } from '@hivesight/protocol'
import type { Db } from '../db/create-db.ts'
import * as linksRepo from '../db/join-link.repository.ts'
import * as identitiesRepo from '../db/volunteer-identity.repository.ts'
import * as workersRepo from '../db/worker.repository.ts'
import type { Clock } from '../jobs/clock.ts'
import { toVolunteerRecord } from '../workers/worker-view.ts'
import { mintJoinLink, type JoinLink } from './join-links.ts'

const LISTED = 500

/**
 * Join links kept in the database: minted (the token is shown once), listed with each link's honesty
 * record, revoked (its tabs closed on every coordinator through `bar`).
 */
export class JoinLinkService {
  constructor(
    private readonly db: Db,
    private readonly joinSecret: string,
    private readonly clock: Clock,
    private readonly bar: (identity: string, reason: string) => Promise<void>,
  ) {}

  async mint(label: string, hours: number, sessions: number, createdBy: string | null): Promise<JoinLink & { sessions: number }> {
    const now = this.clock.now()
    const link = mintJoinLink(this.joinSecret, label, hours, now)
    await linksRepo.insertJoinLink(this.db.kysely, { name: link.name, created_by: createdBy, created_at: now, expires_at: link.expiresAt, revoked_at: null, max_sessions: sessions })
    return { ...link, sessions }
  }

  async list(): Promise<JoinLinkEntry[]> {
    const links = await linksRepo.listJoinLinks(this.db.kysely, LISTED)
    const names = links.map((l) => l.name)
    const [records, live] = await Promise.all([identitiesRepo.identitiesIn(this.db.kysely, names), workersRepo.liveVolunteersByName(this.db.kysely, names)])
    const byName = new Map(records.map((r) => [r.identity, r]))
    return links.map((l) => {
      const r = byName.get(l.name)
      return {
        name: l.name, createdAt: Number(l.created_at), expiresAt: Number(l.expires_at), revokedAt: l.revoked_at === null ? null : Number(l.revoked_at),
        sessions: Number(l.max_sessions), liveSessions: live.get(l.name) ?? 0,
        record: r ? toVolunteerRecord(r) : null,
      }
    })
  }

  /** false when there is no such link, or it was revoked already. */
  async revoke(name: string): Promise<boolean> {
    if (!(await linksRepo.revokeJoinLink(this.db.kysely, name, this.clock.now()))) return false
    await this.bar(name, 'its join link was revoked')
    return true
  }
}
