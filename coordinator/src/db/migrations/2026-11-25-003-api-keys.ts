import type { Kysely } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(100)', (c) => c.notNull())
    // The key itself is shown once and never stored: only its sha256 and a short prefix to recognise it by.
    .addColumn('key_hash', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('key_prefix', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .execute()
  await db.schema.alterTable('jobs').addColumn('owner_key_id', 'varchar(36)').execute()
  await db.schema.createIndex('jobs_owner_idx').on('jobs').columns(['owner_key_id', 'id']).execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('jobs_owner_idx').on('jobs').execute()
  await db.schema.alterTable('jobs').dropColumn('owner_key_id').execute()
  await db.schema.dropTable('api_keys').execute()
}
