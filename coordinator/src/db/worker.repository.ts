import { sql, type Kysely, type Transaction } from 'kysely'
import type { Database, NewWorker, WorkerRow } from './schema.ts'

type Conn = Kysely<Database> | Transaction<Database>

export async function insertWorker(db: Conn, w: NewWorker): Promise<void> {
  await db.insertInto('workers').values(w).execute()
}

/** A worker's row lives as long as its connection: reconnecting tabs do not grow the table. */
export async function deleteWorkers(db: Conn, ids: string[]): Promise<void> {
  if (ids.length > 0) await db.deleteFrom('workers').where('id', 'in', ids).execute()
}

/**
 * One UPDATE for all of a coordinator's live workers: proof of life for other coordinators' sweeps, and
 * the jobs each finished since the last touch (counted in memory, so results do not write this table).
 */
export async function touchWorkers(db: Conn, ids: string[], now: number, jobsDone: Map<string, number>): Promise<void> {
  if (ids.length === 0) return
  const done = [...jobsDone].filter(([id, n]) => n > 0 && ids.includes(id))
  await db.updateTable('workers')
    .set((eb) => ({
      last_seen_at: now,
      ...(done.length > 0
        ? { jobs_done: sql<number>`${eb.ref('jobs_done')} + case ${sql.ref('id')} ${sql.join(done.map(([id, n]) => sql`when ${id} then ${n}`), sql` `)} else 0 end` }
        : {}),
    }))
    .where('id', 'in', ids).execute()
}

/** Workers whose coordinator stopped vouching for them (it crashed): nobody touched them since `seenBefore`. */
export function findStaleWorkerIds(db: Conn, seenBefore: number): Promise<string[]> {
  return db.selectFrom('workers').select('id').where('last_seen_at', '<', seenBefore)
    .execute().then((rows) => rows.map((r) => r.id))
}

/** Workers registered by a coordinator (at its start: those of its previous run, whose sockets are gone). */
export function workerIdsOfCoordinator(db: Conn, coordinatorId: string): Promise<string[]> {
  return db.selectFrom('workers').select('id').where('coordinator_id', '=', coordinatorId)
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
