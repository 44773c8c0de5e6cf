import type { Kysely } from 'kysely'

// One row per live worker session token, shared by every coordinator: one live session per token holds
// across a fleet of coordinators, not only within one process.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('worker_sessions')
    // sha256 of the session token: the token itself is a credential and is not stored.
    .addColumn('token_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('worker_id', 'varchar(36)', (c) => c.notNull())
    // Which coordinator holds it: a restarted coordinator frees its previous life's sessions at once.
    .addColumn('coordinator_id', 'varchar(200)', (c) => c.notNull())
    .addColumn('seen_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('worker_sessions_worker_idx').on('worker_sessions').column('worker_id').execute()
  await db.schema.createIndex('worker_sessions_coordinator_idx').on('worker_sessions').column('coordinator_id').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('worker_sessions').execute()
}
