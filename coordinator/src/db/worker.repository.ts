import { sql, type Expression, type Kysely, type RawBuilder, type Transaction } from 'kysely'
import type { Database, NewWorker, WorkerRow } from './schema.ts'

type Conn = Kysely<Database> | Transaction<Database>

export async function insertWorker(db: Conn, w: NewWorker): Promise<void> {
  await db.insertInto('workers').values(w).execute()
}

/** A worker's row lives as long as its connection: reconnecting tabs do not grow the table. */
export async function deleteWorkers(db: Conn, ids: string[]): Promise<void> {
  if (ids.length > 0) await db.deleteFrom('workers').where('id', 'in', ids).execute()
}

/** What a coordinator measured of one of its workers (see workers/worker-figures.ts). */
export interface WorkerFigureRow {
  imagesPerSecond: number
  inferMs: number | null
  prepareMs: number | null
}

/**
 * One UPDATE for all of a coordinator's live workers: proof of life for other coordinators' sweeps, the
 * jobs each finished since the last touch (counted in memory, so results do not write this table) and the
 * figures measured since, which any coordinator's /api/v1/workers then shows.
 */
export async function touchWorkers(db: Conn, ids: string[], now: number, jobsDone: Map<string, number>, figures: Map<string, WorkerFigureRow>): Promise<void> {
  if (ids.length === 0) return
  const done = [...jobsDone].filter(([id, n]) => n > 0 && ids.includes(id))
  const measured = [...figures].filter(([id]) => ids.includes(id))
  // Times stay as they were until a worker has a result to time.
  const timed = (pick: (f: WorkerFigureRow) => number | null) =>
    measured.flatMap(([id, f]): [string, number][] => { const v = pick(f); return v === null ? [] : [[id, v]] })
  const infer = timed((f) => f.inferMs)
  const prepare = timed((f) => f.prepareMs)
  await db.updateTable('workers')
    .set((eb) => ({
      last_seen_at: now,
      ...(done.length > 0 ? { jobs_done: sql<number>`${eb.ref('jobs_done')} + ${byId(done, sql`0`)}` } : {}),
      ...(measured.length > 0 ? { images_per_second: byId(measured.map(([id, f]) => [id, f.imagesPerSecond]), eb.ref('images_per_second')) } : {}),
      ...(infer.length > 0 ? { infer_ms: byId(infer, eb.ref('infer_ms')) } : {}),
      ...(prepare.length > 0 ? { prepare_ms: byId(prepare, eb.ref('prepare_ms')) } : {}),
    }))
    .where('id', 'in', ids).execute()
}

/** `case id when … then … else <otherwise> end`: one value per row in a single UPDATE. */
function byId(values: [string, number][], otherwise: Expression<unknown>): RawBuilder<number> {
  return sql<number>`case ${sql.ref('id')} ${sql.join(values.map(([id, v]) => sql`when ${id} then ${v}`), sql` `)} else ${otherwise} end`
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

/** Live volunteer connections per name (a join link's tabs carry its name). */
export async function liveVolunteersByName(db: Conn, names: string[]): Promise<Map<string, number>> {
  if (names.length === 0) return new Map()
  const rows = await db.selectFrom('workers').select(['name', (eb) => eb.fn.countAll<number>().as('n')])
    .where('trusted', '=', 0).where('disconnected_at', 'is', null).where('name', 'in', names).groupBy('name').execute()
  return new Map(rows.flatMap((r) => (r.name === null ? [] : [[r.name, Number(r.n)]])))
}
