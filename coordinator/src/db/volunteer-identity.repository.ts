import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { Dialect } from './create-db.ts'
import type { Database, VolunteerIdentityTable } from './schema.ts'

type Conn = Kysely<Database> | Transaction<Database>

export type Tally = Partial<Record<'answers' | 'confirmed' | 'checks_passed' | 'checks_failed' | 'contradicted', number>>

/** Adds to an identity's record, creating it on first sight (one statement: no read-then-write race). */
export async function addToRecord(db: Conn, dialect: Dialect, identity: string, tally: Tally, now: number): Promise<void> {
  const cols = Object.entries(tally).filter(([, n]) => n !== undefined && n !== 0) as [keyof Tally, number][]
  if (cols.length === 0) return
  const insert = db.insertInto('volunteer_identities').values({ identity, updated_at: now, ...Object.fromEntries(cols) })
  const bump = Object.fromEntries(cols.map(([c, n]) => [c, sql<number>`${sql.ref(c)} + ${n}`]))
  await (dialect === 'mariadb'
    ? insert.onDuplicateKeyUpdate({ ...bump, updated_at: now })
    : insert.onConflict((oc) => oc.column('identity').doUpdateSet({ ...bump, updated_at: now }))).execute()
}

/** Marks an identity quarantined (the first reason stays). */
export async function quarantineIdentity(db: Conn, dialect: Dialect, identity: string, reason: string, now: number): Promise<void> {
  const insert = db.insertInto('volunteer_identities').values({ identity, quarantined_at: now, quarantine_reason: reason.slice(0, 200), updated_at: now })
  const set = { quarantined_at: sql<number>`coalesce(quarantined_at, ${now})`, quarantine_reason: sql<string>`coalesce(quarantine_reason, ${reason.slice(0, 200)})`, updated_at: now }
  await (dialect === 'mariadb' ? insert.onDuplicateKeyUpdate(set) : insert.onConflict((oc) => oc.column('identity').doUpdateSet(set))).execute()
}

export function findIdentity(db: Conn, identity: string): Promise<Selectable<VolunteerIdentityTable> | undefined> {
  return db.selectFrom('volunteer_identities').selectAll().where('identity', '=', identity).executeTakeFirst()
}

export function identitiesIn(db: Conn, identities: string[]): Promise<Selectable<VolunteerIdentityTable>[]> {
  if (identities.length === 0) return Promise.resolve([])
  return db.selectFrom('volunteer_identities').selectAll().where('identity', 'in', identities).execute()
}
