import type { Kysely } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  // Retry backoff: a requeued job is not claimed before this time (epoch ms).
  await db.schema.alterTable('jobs').addColumn('available_at', 'bigint', (c) => c.notNull().defaultTo(0)).execute()
  await db.schema
    .createTable('idempotency_keys')
    .addColumn('idem_key', 'varchar(255)', (c) => c.primaryKey())
    .addColumn('fingerprint', 'varchar(64)', (c) => c.notNull())
    .addColumn('response_json', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('idempotency_keys_created_idx').on('idempotency_keys').column('created_at').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('idempotency_keys').execute()
  await db.schema.alterTable('jobs').dropColumn('available_at').execute()
}
