import { MysqlAdapter, sql, type Kysely } from 'kysely'

// An Idempotency-Key's stored 202 lists every job of its upload: 64 images with long filenames passed
// MariaDB's TEXT (64 KiB) and the upload failed with "Data too long". MEDIUMTEXT holds 16 MiB. SQLite's
// TEXT has no such limit.
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof MysqlAdapter)) return
  await sql`ALTER TABLE idempotency_keys MODIFY response_json MEDIUMTEXT NOT NULL`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof MysqlAdapter)) return
  await sql`ALTER TABLE idempotency_keys MODIFY response_json TEXT NOT NULL`.execute(db)
}
