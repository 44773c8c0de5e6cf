import { sql, type Kysely, type Transaction } from 'kysely'
import type { Database, NewWorker, WorkerRow } from './schema.ts'

type Conn = Kysely<Database> | Transaction<Database>

export async function insertWorker(db: Conn, w: NewWorker): Promise<void> {
  await db.insertInto('workers').values(w).execute()
}

export async function markDisconnected(db: Conn, ids: string[], now: number): Promise<void> {
  if (ids.length === 0) return
  await db.updateTable('workers').set({ disconnected_at: now }).where('id', 'in', ids).where('disconnected_at', 'is', null).execute()
}

/** One UPDATE for all of a coordinator's live workers: proof of life for other coordinators' sweeps. */
export async function touchWorkers(db: Conn, ids: string[], now: number): Promise<void> {
  if (ids.length === 0) return
  await db.updateTable('workers').set({ last_seen_at: now }).where('id', 'in', ids).execute()
}

export async function addJobsDone(db: Conn, id: string, n: number, now: number): Promise<void> {
  await db.updateTable('workers').set((eb) => ({ jobs_done: eb('jobs_done', '+', n), last_seen_at: now })).where('id', '=', id).execute()
}

/** Workers still marked connected whose coordinator stopped vouching for them (it crashed). */
export function findStaleWorkerIds(db: Conn, seenBefore: number): Promise<string[]> {
  return db.selectFrom('workers').select('id').where('disconnected_at', 'is', null).where('last_seen_at', '<', seenBefore)
    .execute().then((rows) => rows.map((r) => r.id))
}

export type LiveWorkerRow = WorkerRow & { busy: number }

export function listLiveWorkers(db: Conn): Promise<LiveWorkerRow[]> {
  return db.selectFrom('workers')
    .selectAll('workers')
    .select((eb) => eb.selectFrom('jobs').select(sql<number>`count(*)`.as('n'))
      .whereRef('jobs.worker_id', '=', 'workers.id').where('jobs.status', '=', 'running').as('busy'))
    .where('disconnected_at', 'is', null)
    .orderBy('connected_at', 'asc')
    .execute()
    .then((rows) => rows.map((r) => ({ ...r, busy: Number(r.busy ?? 0) })))
}
