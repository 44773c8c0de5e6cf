import type { Kysely } from 'kysely'

// Which flavour of the wasm backend a worker runs, and the figures its coordinator measures: images/s and
// mean inference and preparation (decode + resize) times, written with each sweep's touch.
// 'double precision' is DOUBLE on MariaDB and has REAL affinity on SQLite. simd is 0/1: SQLite has no
// boolean and its driver binds no JS booleans. One column per statement: SQLite adds one at a time.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('workers').addColumn('simd', 'integer', (c) => c.notNull().defaultTo(0)).execute()
  await db.schema.alterTable('workers').addColumn('images_per_second', 'double precision', (c) => c.notNull().defaultTo(0)).execute()
  // Null until the worker's first result.
  await db.schema.alterTable('workers').addColumn('infer_ms', 'double precision').execute()
  await db.schema.alterTable('workers').addColumn('prepare_ms', 'double precision').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of ['prepare_ms', 'infer_ms', 'images_per_second', 'simd']) {
    await db.schema.alterTable('workers').dropColumn(column).execute()
  }
}
