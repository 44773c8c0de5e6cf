import { existsSync } from 'node:fs'
import { readdir, readFile, rmdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { Db } from '../db/create-db.ts'
import * as imagesRepo from '../db/image.repository.ts'
import type { Logger } from '../jobs/logger.ts'

const BLOB_NAME = /^[0-9a-f-]{36}$/
const BATCH = 200

/**
 * Before images lived in the database, each coordinator kept them as files in DATA_DIR/blobs. On the
 * first start of this version, the images of jobs that may still run (queued, running, delayed, dead) are
 * copied into the database, then the files go: an upgrade loses no accepted upload.
 */
export async function importLegacyBlobs(db: Db, dir: string, log: Logger): Promise<number> {
  if (!existsSync(dir)) return 0
  const names = (await readdir(dir)).filter((n) => BLOB_NAME.test(n))
  let imported = 0
  for (let i = 0; i < names.length; i += BATCH) {
    const ids = names.slice(i, i + BATCH)
    const open = await db.kysely.selectFrom('jobs').select('id').where('id', 'in', ids).where('status', 'in', ['queued', 'delayed', 'running', 'dead']).execute()
    const have = await imagesRepo.existingImageIds(db.kysely, open.map((r) => r.id))
    const missing = open.map((r) => r.id).filter((id) => !have.has(id))
    const rows = await Promise.all(missing.map(async (id) => ({ job_id: id, bytes: await readFile(join(dir, id)) })))
    await imagesRepo.insertImages(db.kysely, rows)
    imported += rows.length
    await Promise.all(ids.map((id) => unlink(join(dir, id)).catch(() => undefined)))
  }
  for (const n of await readdir(dir)) if (n.endsWith('.tmp')) await unlink(join(dir, n)).catch(() => undefined)
  await rmdir(dir).catch(() => undefined)
  if (names.length > 0) log.info({ files: names.length, imported }, 'moved the images of an earlier version from DATA_DIR/blobs into the database')
  return imported
}
