import type { Kysely, Transaction } from 'kysely'
import { isUniqueViolation } from './create-db.ts'
import type { Database } from './schema.ts'

type Conn = Kysely<Database> | Transaction<Database>

/**
 * Takes the session of a token for a worker: free, or held by a session nobody has touched since
 * `staleBefore` (its coordinator died). false = a live session holds it.
 */
export async function claimSession(db: Conn, s: { tokenHash: string; workerId: string; coordinatorId: string }, now: number, staleBefore: number): Promise<boolean> {
  const row = { token_hash: s.tokenHash, worker_id: s.workerId, coordinator_id: s.coordinatorId, seen_at: now }
  try {
    await db.insertInto('worker_sessions').values(row).execute()
    return true
  } catch (err) {
    if (!isUniqueViolation(err)) throw err
  }
  const r = await db.updateTable('worker_sessions').set(row)
    .where('token_hash', '=', s.tokenHash).where('seen_at', '<', staleBefore)
    .executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

/** The worker left: its token is free again (only if the row is still its own). */
export async function releaseSessions(db: Conn, workerIds: string[]): Promise<void> {
  if (workerIds.length === 0) return
  await db.deleteFrom('worker_sessions').where('worker_id', 'in', workerIds).execute()
}

/** Keeps the sessions of this coordinator's live workers from looking abandoned. */
export async function touchSessions(db: Conn, workerIds: string[], now: number): Promise<void> {
  if (workerIds.length === 0) return
  await db.updateTable('worker_sessions').set({ seen_at: now }).where('worker_id', 'in', workerIds).execute()
}

/** At start-up: sessions this coordinator held before it restarted have no socket any more. */
export async function releaseCoordinatorSessions(db: Conn, coordinatorId: string): Promise<number> {
  const r = await db.deleteFrom('worker_sessions').where('coordinator_id', '=', coordinatorId).executeTakeFirst()
  return Number(r.numDeletedRows)
}
