import { MysqlAdapter, sql, type Kysely } from 'kysely'

// The model repository: immutable versions (id = sha256 of manifest and weights), their files as
// content-addressed chunks (1 MiB, under MariaDB's max_allowed_packet), movable labels, and the exact
// version every job runs on. Jobs and known answers from before name no version: they are the imported
// MobileNet's (see models/model-import.ts).
export async function up(db: Kysely<unknown>): Promise<void> {
  const mariadb = db.getExecutor().adapter instanceof MysqlAdapter
  await db.schema
    .createTable('model_versions')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('model_name', 'varchar(64)', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('failure_reason', 'text')
    .addColumn('descriptor_json', 'text', (c) => c.notNull())
    .addColumn('classes_json', mariadb ? sql`mediumtext` : 'text', (c) => c.notNull())
    .addColumn('byte_size', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('ready_at', 'bigint')
    .addColumn('smoke_json', 'text')
    /** The label to point at this version once it is ready (asked for at upload). */
    .addColumn('label_on_ready', 'varchar(32)')
    .addUniqueConstraint('model_versions_number', ['model_name', 'version'])
    .execute()
  await db.schema
    .createTable('model_files')
    .addColumn('version_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('path', 'varchar(100)', (c) => c.notNull())
    .addColumn('sha256', 'varchar(64)', (c) => c.notNull())
    .addColumn('byte_size', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('model_files_pk', ['version_id', 'seq'])
    .execute()
  await db.schema
    .createTable('model_chunks')
    .addColumn('sha256', 'varchar(64)', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('bytes', mariadb ? sql`mediumblob` : 'blob', (c) => c.notNull())
    .addPrimaryKeyConstraint('model_chunks_pk', ['sha256', 'seq'])
    .execute()
  await db.schema
    .createTable('model_labels')
    .addColumn('model_name', 'varchar(64)', (c) => c.notNull())
    .addColumn('label', 'varchar(32)', (c) => c.notNull())
    .addColumn('version_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('canary_version_id', 'varchar(64)')
    .addColumn('canary_percent', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('model_labels_pk', ['model_name', 'label'])
    .execute()
  await db.schema.alterTable('jobs').addColumn('model_version_id', 'varchar(64)').execute()
  await db.schema.alterTable('known_answers').addColumn('model_version_id', 'varchar(64)').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('known_answers').dropColumn('model_version_id').execute()
  await db.schema.alterTable('jobs').dropColumn('model_version_id').execute()
  for (const t of ['model_labels', 'model_chunks', 'model_files', 'model_versions']) await db.schema.dropTable(t).execute()
}
