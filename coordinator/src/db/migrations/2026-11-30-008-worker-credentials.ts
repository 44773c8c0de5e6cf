import type { Kysely } from 'kysely'

// Per-VM credentials for worker runtimes: each VM holds its own, which expires and can be revoked, instead
// of the WORKER_TOKEN master secret from which any session name can be derived.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('worker_credentials')
    .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
    // sha256 of the credential's 256 random bits (no stretching needed for a random secret).
    .addColumn('secret_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    // Pages (live sessions) the VM may run at once.
    .addColumn('max_sessions', 'integer', (c) => c.notNull())
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('worker_credentials').execute()
}
