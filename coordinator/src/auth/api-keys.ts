import { createHash, randomBytes } from 'node:crypto'
import { v7 as uuidv7 } from 'uuid'
import * as keysRepo from '../db/api-key.repository.ts'
import type { Db } from '../db/create-db.ts'

export interface Principal {
  keyId: string
  name: string
  /** May make, list and revoke join links. */
  admin: boolean
  /** Its jobs may go to volunteer tabs (VOLUNTEER_JOBS=per-key). */
  volunteers: boolean
}

export interface KeyRights {
  admin?: boolean
  volunteers?: boolean
}

const hashOf = (key: string): string => createHash('sha256').update(key).digest('hex')
// Keys carry 192 random bits, so a plain sha256 is enough to store them (no password stretching needed).
const KEY_PATTERN = /^hs_[A-Za-z0-9_-]{32}$/

/** Creates a key; the returned secret is shown once and only its hash is kept. */
export async function createApiKey(db: Db, name: string, now: number, rights: KeyRights = {}): Promise<{ id: string; key: string; prefix: string }> {
  const key = `hs_${randomBytes(24).toString('base64url')}`
  const id = uuidv7()
  const prefix = key.slice(0, 10)
  await keysRepo.insertApiKey(db.kysely, { id, name, key_hash: hashOf(key), key_prefix: prefix, created_at: now, revoked_at: null, admin: rights.admin ? 1 : 0, volunteers: rights.volunteers ? 1 : 0 })
  return { id, key, prefix }
}

/** Looks keys up by hash, remembering answers briefly so a busy client costs no query per request. */
export class ApiKeyVerifier {
  private readonly cache = new Map<string, { principal: Principal | null; until: number }>()

  constructor(private readonly db: Db, private readonly ttlMs = 10_000) {}

  async verify(key: string): Promise<Principal | null> {
    if (!KEY_PATTERN.test(key)) return null
    const hash = hashOf(key)
    const hit = this.cache.get(hash)
    if (hit && hit.until > Date.now()) return hit.principal
    const row = await keysRepo.findActiveKeyByHash(this.db.kysely, hash)
    const principal = row ? { keyId: row.id, name: row.name, admin: Number(row.admin) === 1, volunteers: Number(row.volunteers) === 1 } : null
    if (this.cache.size > 10_000) this.cache.clear()
    this.cache.set(hash, { principal, until: Date.now() + this.ttlMs })
    return principal
  }
}
