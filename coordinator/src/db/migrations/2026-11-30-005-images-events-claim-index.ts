import { MysqlAdapter, sql, type Kysely } from 'kysely'

// Peer coordinators: images move from each coordinator's disk into the shared database, coordinators
// signal each other through an events table, and the claim gets an index that serves its order.
export async function up(db: Kysely<unknown>): Promise<void> {
  const mariadb = db.getExecutor().adapter instanceof MysqlAdapter
  await db.schema
    .createTable('images')
    .addColumn('job_id', 'varchar(36)', (c) => c.primaryKey())
    // LONGBLOB: BLOB stops at 64 KiB on MariaDB; SQLite has one BLOB type.
    .addColumn('bytes', mariadb ? sql`longblob` : 'blob', (c) => c.notNull())
    .execute()

  await db.schema
    .createTable('coordinator_events')
    .addColumn('id', mariadb ? 'bigint' : 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('kind', 'varchar(32)', (c) => c.notNull())
    // The coordinator that wrote it: it has acted on its own news already.
    .addColumn('origin', 'varchar(200)', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('coordinator_events_created_idx').on('coordinator_events').column('created_at').execute()

  // The claim reads `status = 'queued' ORDER BY priority DESC, id ASC`: an index in exactly that order
  // lets it stop after LIMIT rows (and lock only those) instead of sorting the whole queue.
  // MariaDB names the table of an index to drop; SQLite's index names are global and it takes none.
  const dropIndex = (name: string) => (mariadb ? db.schema.dropIndex(name).on('jobs') : db.schema.dropIndex(name)).execute()
  await dropIndex('jobs_queue_idx')
  await db.schema.createIndex('jobs_claim_idx').on('jobs').columns(['status', 'priority desc', 'id']).execute()
  // Every index holding `status` is rewritten on every transition (claim, result): that was most of the cost
  // of a transition here. Running and delayed jobs are few (what is in flight, what backs off), so the
  // lease sweep, a lost worker's take-back and the back-off promotion read them through the claim index's
  // `status` prefix instead of indexes of their own.
  await dropIndex('jobs_lease_idx')
  await dropIndex('jobs_worker_idx')

  // Which coordinator a worker is connected to: a restarted coordinator takes back its previous run's jobs at once.
  await db.schema.alterTable('workers').addColumn('coordinator_id', 'varchar(200)').execute()
  await db.schema.createIndex('workers_coordinator_idx').on('workers').column('coordinator_id').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const mariadb = db.getExecutor().adapter instanceof MysqlAdapter
  const dropIndex = (name: string, table: string) => (mariadb ? db.schema.dropIndex(name).on(table) : db.schema.dropIndex(name)).execute()
  await dropIndex('workers_coordinator_idx', 'workers')
  await db.schema.alterTable('workers').dropColumn('coordinator_id').execute()
  await dropIndex('jobs_claim_idx', 'jobs')
  await db.schema.createIndex('jobs_worker_idx').on('jobs').columns(['worker_id', 'status']).execute()
  await db.schema.createIndex('jobs_lease_idx').on('jobs').columns(['status', 'lease_expires_at']).execute()
  await db.schema.createIndex('jobs_queue_idx').on('jobs').columns(['status', 'priority', 'id']).execute()
  await db.schema.dropTable('coordinator_events').execute()
  await db.schema.dropTable('images').execute()
}
