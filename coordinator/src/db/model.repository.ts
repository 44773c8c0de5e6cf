import type { Kysely, Transaction } from 'kysely'
import type { Database, ModelLabelRow, ModelVersionRow } from './schema.ts'

type Conn = Kysely<Database> | Transaction<Database>

/** Under MariaDB's default max_allowed_packet (16 MiB) with room for the statement. */
export const CHUNK_BYTES = 1024 * 1024

export interface StoredFile { path: string; sha256: string; bytes: Buffer }

const versionColumns = ['id', 'model_name', 'version', 'state', 'failure_reason', 'descriptor_json', 'classes_json', 'byte_size', 'created_at', 'ready_at', 'smoke_json', 'label_on_ready'] as const

/**
 * A new version numbered after the model's last one, with its files; chunks already stored (a shard shared
 * with an earlier version) are not written again. Run in a transaction: the number is unique per model,
 * so two uploads at once make one of them retry (a unique violation).
 */
export async function insertVersion(trx: Transaction<Database>, row: Omit<ModelVersionRow, 'version'>, files: StoredFile[]): Promise<number> {
  const last = await trx.selectFrom('model_versions').select((eb) => eb.fn.max('version').as('v')).where('model_name', '=', row.model_name).executeTakeFirst()
  const version = Number(last?.v ?? 0) + 1
  await trx.insertInto('model_versions').values({ ...row, version }).execute()
  for (const [seq, f] of files.entries()) {
    await trx.insertInto('model_files').values({ version_id: row.id, seq, path: f.path, sha256: f.sha256, byte_size: f.bytes.length }).execute()
    const have = await trx.selectFrom('model_chunks').select('seq').where('sha256', '=', f.sha256).where('seq', '=', 0).executeTakeFirst()
    if (have) continue
    for (let at = 0, n = 0; at < f.bytes.length || n === 0; at += CHUNK_BYTES, n++) {
      await trx.insertInto('model_chunks').values({ sha256: f.sha256, seq: n, bytes: f.bytes.subarray(at, at + CHUNK_BYTES) }).execute()
    }
  }
  return version
}

export function findVersion(db: Conn, id: string): Promise<ModelVersionRow | undefined> {
  return db.selectFrom('model_versions').select(versionColumns).where('id', '=', id).executeTakeFirst()
}

export function listVersions(db: Conn): Promise<ModelVersionRow[]> {
  return db.selectFrom('model_versions').select(versionColumns).orderBy('model_name').orderBy('version').execute()
}

export function listLabels(db: Conn): Promise<ModelLabelRow[]> {
  return db.selectFrom('model_labels').selectAll().orderBy('model_name').orderBy('label').execute()
}

/** validating → ready | failed, once: a second coordinator's smoke test of the same version changes nothing. */
export async function settleVersion(db: Conn, id: string, to: { state: 'ready' | 'failed'; reason: string | null; smokeJson: string | null; now: number }): Promise<boolean> {
  const r = await db.updateTable('model_versions')
    .set({ state: to.state, failure_reason: to.reason, smoke_json: to.smokeJson, ready_at: to.state === 'ready' ? to.now : null })
    .where('id', '=', id).where('state', '=', 'validating').executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

export async function setLabel(db: Conn, label: Omit<ModelLabelRow, 'canary_percent'> & { canary_percent: number }): Promise<void> {
  const r = await db.updateTable('model_labels')
    .set({ version_id: label.version_id, canary_version_id: label.canary_version_id, canary_percent: label.canary_percent, updated_at: label.updated_at })
    .where('model_name', '=', label.model_name).where('label', '=', label.label).executeTakeFirst()
  if (Number(r.numUpdatedRows) === 0) await db.insertInto('model_labels').values(label).execute()
}

export async function deleteLabel(db: Conn, modelName: string, label: string): Promise<boolean> {
  const r = await db.deleteFrom('model_labels').where('model_name', '=', modelName).where('label', '=', label).executeTakeFirst()
  return Number(r.numDeletedRows) === 1
}

/** Jobs not final yet that run on this version (it may not be removed under them). */
export async function countUnfinishedJobs(db: Conn, versionId: string): Promise<number> {
  const r = await db.selectFrom('jobs').select((eb) => eb.fn.countAll<number>().as('n'))
    .where('model_version_id', '=', versionId).where('status', 'in', ['queued', 'delayed', 'running']).executeTakeFirstOrThrow()
  return Number(r.n)
}

/** The version, its file list and the chunks no other version uses. */
export async function deleteVersion(trx: Transaction<Database>, id: string): Promise<void> {
  const files = await trx.selectFrom('model_files').select('sha256').where('version_id', '=', id).execute()
  await trx.deleteFrom('model_files').where('version_id', '=', id).execute()
  await trx.deleteFrom('model_versions').where('id', '=', id).execute()
  for (const { sha256 } of files) {
    const still = await trx.selectFrom('model_files').select('version_id').where('sha256', '=', sha256).executeTakeFirst()
    if (!still) await trx.deleteFrom('model_chunks').where('sha256', '=', sha256).execute()
  }
}

/** One file of a version, whole; undefined if the version has no such file. */
export async function readFile(db: Conn, versionId: string, path: string): Promise<{ sha256: string; bytes: Buffer } | undefined> {
  const file = await db.selectFrom('model_files').select(['sha256', 'byte_size']).where('version_id', '=', versionId).where('path', '=', path).executeTakeFirst()
  if (!file) return undefined
  const chunks = await db.selectFrom('model_chunks').select(['bytes']).where('sha256', '=', file.sha256).orderBy('seq').execute()
  const bytes = Buffer.concat(chunks.map((c) => (Buffer.isBuffer(c.bytes) ? c.bytes : Buffer.from(c.bytes as Uint8Array))))
  if (bytes.length !== Number(file.byte_size)) throw new Error(`model file ${path} of ${versionId} is incomplete in the database (${bytes.length} of ${file.byte_size} bytes)`)
  return { sha256: file.sha256, bytes }
}

/** Rows from before the model repository ran on the built-in model: they name it now. */
export async function adoptUnversioned(db: Conn, versionId: string): Promise<void> {
  await db.updateTable('jobs').set({ model_version_id: versionId }).where('model_version_id', 'is', null).execute()
  await db.updateTable('known_answers').set({ model_version_id: versionId }).where('model_version_id', 'is', null).execute()
}
