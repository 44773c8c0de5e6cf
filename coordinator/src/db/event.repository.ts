import type { Kysely, Transaction } from 'kysely'
import type { Database } from './schema.ts'

type Conn = Kysely<Database> | Transaction<Database>

export interface StoredEvent {
  id: number
  kind: string
  origin: string
  payload: string
  created_at: number
}

/** A signal to write (its id is the table's). */
export interface NewEvent {
  kind: string
  origin: string
  payload: string
  created_at: number
}

export async function appendEvents(db: Conn, events: NewEvent[]): Promise<void> {
  if (events.length > 0) await db.insertInto('coordinator_events').values(events).execute()
}

/** Events with an id above `afterId`, oldest first. */
export async function eventsAfter(db: Conn, afterId: number, limit: number): Promise<StoredEvent[]> {
  const rows = await db.selectFrom('coordinator_events').selectAll().where('id', '>', afterId).orderBy('id').limit(limit).execute()
  return rows.map((r) => ({ ...r, id: Number(r.id), created_at: Number(r.created_at) }))
}

/** The events among `ids` (ones awaited by a reader: committed late, or never used). */
export async function eventsWithIds(db: Conn, ids: number[]): Promise<StoredEvent[]> {
  if (ids.length === 0) return []
  const rows = await db.selectFrom('coordinator_events').selectAll().where('id', 'in', ids).orderBy('id').execute()
  return rows.map((r) => ({ ...r, id: Number(r.id), created_at: Number(r.created_at) }))
}

/** The newest id (0 when empty): a coordinator that starts reads only what comes after. */
export async function lastEventId(db: Conn): Promise<number> {
  const r = await db.selectFrom('coordinator_events').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst()
  return Number(r?.id ?? 0)
}

export async function deleteEventsBefore(db: Conn, createdBefore: number): Promise<number> {
  const r = await db.deleteFrom('coordinator_events').where('created_at', '<', createdBefore).executeTakeFirst()
  return Number(r.numDeletedRows)
}
