import type { Kysely } from 'kysely'

// Migrations never import app code: the app changes after a migration has run, the migration must not.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('jobs')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('lease_token', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('lease_expires_at', 'bigint')
    .addColumn('worker_id', 'varchar(36)')
    .addColumn('submitted_at', 'bigint', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('finished_at', 'bigint')
    .addColumn('filename', 'varchar(255)')
    .addColumn('content_type', 'varchar(64)', (c) => c.notNull())
    .addColumn('byte_size', 'integer', (c) => c.notNull())
    .addColumn('width', 'integer', (c) => c.notNull())
    .addColumn('height', 'integer', (c) => c.notNull())
    .addColumn('result_json', 'text')
    .addColumn('error_code', 'varchar(64)')
    .addColumn('error_message', 'varchar(1000)')
    .execute()
  // The dispatcher's claim: highest priority first, FIFO (id) within a priority.
  await db.schema.createIndex('jobs_queue_idx').on('jobs').columns(['status', 'priority', 'id']).execute()
  // Requeue on worker loss and the lease sweep.
  await db.schema.createIndex('jobs_worker_idx').on('jobs').columns(['worker_id', 'status']).execute()
  await db.schema.createIndex('jobs_lease_idx').on('jobs').columns(['status', 'lease_expires_at']).execute()

  await db.schema
    .createTable('workers')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('name', 'varchar(100)')
    .addColumn('slots', 'integer', (c) => c.notNull())
    .addColumn('backend', 'varchar(20)', (c) => c.notNull())
    .addColumn('threads', 'integer', (c) => c.notNull())
    .addColumn('user_agent', 'varchar(400)')
    .addColumn('remote_address', 'varchar(64)')
    .addColumn('connected_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('disconnected_at', 'bigint')
    .addColumn('jobs_done', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
  await db.schema.createIndex('workers_live_idx').on('workers').columns(['disconnected_at', 'last_seen_at']).execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('workers').execute()
  await db.schema.dropTable('jobs').execute()
}
