import { MysqlAdapter, sql, type Kysely } from 'kysely'

// Volunteer trust: which jobs volunteers may see, their answers until a quorum or a trusted worker decides,
// known answers for spot checks, each volunteer identity's record, join links kept (listed, revoked) and
// who may make them. 0/1 integers: SQLite has no boolean. One column per statement: SQLite adds one at a time.
export async function up(db: Kysely<unknown>): Promise<void> {
  const mariadb = db.getExecutor().adapter instanceof MysqlAdapter
  const flag = async (table: string, column: string, fallback: number) =>
    db.schema.alterTable(table).addColumn(column, 'integer', (c) => c.notNull().defaultTo(fallback)).execute()
  await flag('jobs', 'volunteers_allowed', 0)
  // Volunteers disagreed, or one said it could not classify: only a trusted worker may take it now.
  await flag('jobs', 'needs_trusted', 0)
  // The current lease is a volunteer's: losing it (a hidden tab, a closed one) uses no attempt.
  await flag('jobs', 'lease_untrusted', 0)
  // A volunteer's answer was kept: a trusted result must be judged against it (read only then).
  await flag('jobs', 'has_opinions', 0)
  // Rows of workers connected before this migration were trusted runtimes or open-mode tabs alike.
  await flag('workers', 'trusted', 1)
  // Who a volunteer is for verification (its link's name, or `net:<network>`): its record is shown with it.
  await db.schema.alterTable('workers').addColumn('identity', 'varchar(120)').execute()
  await flag('api_keys', 'admin', 0)
  await flag('api_keys', 'volunteers', 0)

  await db.schema
    .createTable('job_opinions')
    .addColumn('job_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('identity', 'varchar(120)', (c) => c.notNull())
    .addColumn('network', 'varchar(64)')
    .addColumn('top1', 'integer', (c) => c.notNull())
    .addColumn('result_json', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('job_opinions_pk', ['job_id', 'identity'])
    .execute()
  await db.schema.createIndex('job_opinions_identity_idx').on('job_opinions').column('identity').execute()

  await db.schema
    .createTable('known_answers')
    .addColumn('job_id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('bytes', mariadb ? sql`longblob` : 'blob', (c) => c.notNull())
    .addColumn('top1', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute()

  await db.schema
    .createTable('volunteer_identities')
    .addColumn('identity', 'varchar(120)', (c) => c.primaryKey())
    .addColumn('answers', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('confirmed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('checks_passed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('checks_failed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('contradicted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('quarantined_at', 'bigint')
    .addColumn('quarantine_reason', 'varchar(200)')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute()

  await db.schema
    .createTable('join_links')
    .addColumn('name', 'varchar(120)', (c) => c.primaryKey())
    .addColumn('created_by', 'varchar(64)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .addColumn('max_sessions', 'integer', (c) => c.notNull())
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['join_links', 'volunteer_identities', 'known_answers', 'job_opinions']) await db.schema.dropTable(t).execute()
  for (const [t, c] of [['api_keys', 'volunteers'], ['api_keys', 'admin'], ['workers', 'identity'], ['workers', 'trusted'], ['jobs', 'has_opinions'], ['jobs', 'lease_untrusted'], ['jobs', 'needs_trusted'], ['jobs', 'volunteers_allowed']] as const) {
    await db.schema.alterTable(t).dropColumn(c).execute()
  }
}
