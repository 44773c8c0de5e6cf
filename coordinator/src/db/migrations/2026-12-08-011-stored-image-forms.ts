import type { Kysely } from 'kysely'

// A big photo may be stored as the model input (224 × 224 RGB bytes) rather than as a picture: jobs keep
// the upload's own content type for the API beside the stored one, and a known answer copied from such a
// job must say what its bytes are.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('jobs').addColumn('upload_content_type', 'varchar(64)').execute()
  await db.schema.alterTable('known_answers').addColumn('content_type', 'varchar(64)').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('known_answers').dropColumn('content_type').execute()
  await db.schema.alterTable('jobs').dropColumn('upload_content_type').execute()
}
