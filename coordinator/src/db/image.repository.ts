import type { Kysely, Transaction } from 'kysely'
import type { Database } from './schema.ts'

type Conn = Kysely<Database> | Transaction<Database>

// A multi-row INSERT is one packet: keep it well under MariaDB's default max_allowed_packet (16 MiB). An
// image bigger than this goes alone, so a statement is at most max(this, one image) (db/write-set-bound.ts).
export const BYTES_PER_STATEMENT = 4 * 1024 * 1024

/** Stores images, several per statement: an upload is one transaction with its jobs. */
export async function insertImages(db: Conn, images: { job_id: string; bytes: Buffer }[]): Promise<void> {
  let batch: typeof images = []
  let size = 0
  const flush = async () => {
    if (batch.length > 0) await db.insertInto('images').values(batch).execute()
    batch = []
    size = 0
  }
  for (const img of images) {
    if (size + img.bytes.length > BYTES_PER_STATEMENT) await flush()
    batch.push(img)
    size += img.bytes.length
  }
  await flush()
}

export async function findImages(db: Conn, jobIds: string[]): Promise<Map<string, Buffer>> {
  if (jobIds.length === 0) return new Map()
  const rows = await db.selectFrom('images').select(['job_id', 'bytes']).where('job_id', 'in', jobIds).execute()
  return new Map(rows.map((r) => [r.job_id, Buffer.isBuffer(r.bytes) ? r.bytes : Buffer.from(r.bytes as Uint8Array)]))
}

export async function deleteImages(db: Conn, jobIds: string[]): Promise<void> {
  if (jobIds.length > 0) await db.deleteFrom('images').where('job_id', 'in', jobIds).execute()
}

/** Whether these jobs have their image (an upgrade from files on disk copies only the missing ones). */
export async function existingImageIds(db: Conn, jobIds: string[]): Promise<Set<string>> {
  if (jobIds.length === 0) return new Set()
  const rows = await db.selectFrom('images').select('job_id').where('job_id', 'in', jobIds).execute()
  return new Set(rows.map((r) => r.job_id))
}
