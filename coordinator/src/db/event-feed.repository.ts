import type { Kysely, Transaction } from 'kysely'
import type { Database, JobRow, JobStatus } from './schema.ts'

// Reads for the event stream (events/event-hub.ts): one query each, no business rules.
type Conn = Kysely<Database> | Transaction<Database>

const IDS_PER_STATEMENT = 500

/** The jobs with these ids (primary-key lookups), in no particular order; purged ones are absent. */
export async function findJobsByIds(db: Conn, ids: string[]): Promise<JobRow[]> {
  const out: JobRow[] = []
  for (let i = 0; i < ids.length; i += IDS_PER_STATEMENT) {
    out.push(...await db.selectFrom('jobs').selectAll().where('id', 'in', ids.slice(i, i + IDS_PER_STATEMENT)).execute())
  }
  return out
}

/** Jobs waiting and running: ranges of the claim index's `status` prefix, cheap with a long queue. */
export async function countActiveJobs(db: Conn): Promise<{ queued: number; running: number }> {
  const rows = await db.selectFrom('jobs').select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('status', 'in', ['queued', 'delayed', 'running']).groupBy('status').execute()
  const n = (s: JobStatus) => Number(rows.find((r) => r.status === s)?.n ?? 0)
  return { queued: n('queued') + n('delayed'), running: n('running') }
}

/** Jobs by status over the whole table (the retention window): a scan, so the caller does it rarely. */
export async function countJobsByStatus(db: Conn): Promise<Record<string, number>> {
  const rows = await db.selectFrom('jobs').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute()
  const out: Record<string, number> = {}
  for (const r of rows) {
    const status = r.status === 'delayed' ? 'queued' : r.status
    out[status] = (out[status] ?? 0) + Number(r.n)
  }
  return out
}

/** The oldest event id still kept (undefined when the table is empty): older ids were pruned. */
export async function oldestEventId(db: Conn): Promise<number | undefined> {
  const r = await db.selectFrom('coordinator_events').select((eb) => eb.fn.min('id').as('id')).executeTakeFirst()
  return r?.id === null || r?.id === undefined ? undefined : Number(r.id)
}
