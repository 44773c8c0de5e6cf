import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Db } from '../db/create-db.ts'
import * as credentialsRepo from '../db/worker-credential.repository.ts'
import type { WorkerCredentialTable } from '../db/schema.ts'

// `hsw1.<name>.<secret>`: a worker VM's own credential. The runtime hands it to its pages (in the #fragment);
// the coordinator finds the VM by name and compares the secret's hash in constant time.
const PATTERN = /^hsw1\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{43})$/
const NAME = /^[A-Za-z0-9_-]{1,64}$/

/** The identity of a VM's workers (credential names and join-link names never meet). */
export const credentialIdentity = (name: string): string => `vm:${name}`

const hashOf = (secret: string) => createHash('sha256').update(secret).digest('hex')

export function parseWorkerCredential(token: string): { name: string; secret: string } | undefined {
  const m = PATTERN.exec(token)
  return m ? { name: m[1]!, secret: m[2]! } : undefined
}

/** Pure: may this credential open sessions now? */
export function checkWorkerCredential(row: Pick<WorkerCredentialTable, 'secret_hash' | 'expires_at' | 'revoked_at'> | undefined, secret: string, now: number): { ok: true } | { ok: false; reason: string } {
  const given = Buffer.from(hashOf(secret), 'hex')
  // Compared even for an unknown name, against a hash nobody has: the time says nothing about which names exist.
  const expected = Buffer.from(row?.secret_hash ?? '0'.repeat(64), 'hex')
  if (!timingSafeEqual(given, expected) || !row) return { ok: false, reason: 'unknown worker credential' }
  if (row.revoked_at !== null) return { ok: false, reason: 'this worker credential was revoked' }
  if (row.expires_at <= now) return { ok: false, reason: 'this worker credential has expired: make a new one (npm run keys -- worker create)' }
  return { ok: true }
}

/** Makes a credential for one VM; the returned text is shown once, only its hash is kept. */
export async function createWorkerCredential(db: Db, name: string, days: number, pages: number, now: number): Promise<{ credential: string; expiresAt: number }> {
  if (!NAME.test(name)) throw new Error('a worker credential name is 1 to 64 letters, digits, - or _')
  const secret = randomBytes(32).toString('base64url')
  const expiresAt = now + Math.round(days * 86_400_000)
  await credentialsRepo.insertWorkerCredential(db.kysely, { name, secret_hash: hashOf(secret), created_at: now, expires_at: expiresAt, revoked_at: null, max_sessions: pages })
  return { credential: `hsw1.${name}.${secret}`, expiresAt }
}
