import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely'
import * as m001 from './migrations/2026-11-25-001-create-jobs-and-workers.ts'
import * as m002 from './migrations/2026-11-25-002-retries-and-idempotency.ts'
import * as m003 from './migrations/2026-11-25-003-api-keys.ts'
import * as m004 from './migrations/2026-11-25-004-worker-sessions.ts'
import * as m005 from './migrations/2026-11-30-005-images-events-claim-index.ts'
import * as m006 from './migrations/2026-11-30-006-worker-figures.ts'
import * as m007 from './migrations/2026-11-30-007-volunteer-trust.ts'
import * as m008 from './migrations/2026-11-30-008-worker-credentials.ts'
import * as m009 from './migrations/2026-12-04-009-model-repository.ts'
import * as m010 from './migrations/2026-12-07-010-idempotency-response-size.ts'
import * as m011 from './migrations/2026-12-08-011-stored-image-forms.ts'

// Listed in code, not read from a folder: the same list under tsx, a bundle or compiled output.
const migrations: Record<string, Migration> = {
  '2026-11-25-001-create-jobs-and-workers': m001,
  '2026-11-25-002-retries-and-idempotency': m002,
  '2026-11-25-003-api-keys': m003,
  '2026-11-25-004-worker-sessions': m004,
  '2026-11-30-005-images-events-claim-index': m005,
  '2026-11-30-006-worker-figures': m006,
  '2026-11-30-007-volunteer-trust': m007,
  '2026-11-30-008-worker-credentials': m008,
  '2026-12-04-009-model-repository': m009,
  '2026-12-07-010-idempotency-response-size': m010,
  '2026-12-08-011-stored-image-forms': m011,
}

const provider: MigrationProvider = { getMigrations: async () => migrations }

export function createMigrator<DB>(db: Kysely<DB>): Migrator {
  return new Migrator({ db, provider, migrationTableName: 'hivesight_migrations', migrationLockTableName: 'hivesight_migration_lock' })
}

export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<void> {
  const { error, results } = await createMigrator(db).migrateToLatest()
  const failed = results?.find((r) => r.status === 'Error')
  if (error || failed) {
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`)
  }
}

/** Names of migrations this build knows that the database has not applied (for /readyz). */
export async function pendingMigrations<DB>(db: Kysely<DB>): Promise<string[]> {
  const all = await createMigrator(db).getMigrations()
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name)
}
