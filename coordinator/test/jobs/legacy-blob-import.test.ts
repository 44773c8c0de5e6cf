import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { v7 as uuidv7 } from 'uuid'
import { findImages } from '../../src/db/image.repository.ts'
import { insertJobs } from '../../src/db/job.repository.ts'
import { importLegacyBlobs } from '../../src/storage/legacy-blob-import.ts'
import { freshDb } from '../support/databases.ts'

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined }

test('an upgrade moves the images of jobs that may still run from DATA_DIR/blobs into the database, and drops the files', async (t) => {
  const { db, close } = await freshDb('sqlite')
  t.after(close)
  const dir = join(mkdtempSync(join(tmpdir(), 'hivesight-legacy-')), 'blobs')
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(dir)
  const job = (status: 'queued' | 'succeeded' | 'dead') => ({ id: uuidv7(), status, priority: 0, attempts: 0, max_attempts: 5, lease_token: 0, submitted_at: 1, available_at: 1, filename: null, content_type: 'image/png', byte_size: 3, width: 1, height: 1 })
  const [queued, done, dead] = [job('queued'), job('succeeded'), job('dead')]
  await insertJobs(db.kysely, [queued, done, dead])
  const orphan = uuidv7()
  for (const [id, bytes] of [[queued.id, 'q'], [done.id, 'd'], [dead.id, 'x'], [orphan, 'o']] as const) writeFileSync(join(dir, id), bytes)
  writeFileSync(join(dir, `${orphan}.tmp`), 'partial')
  assert.equal(await importLegacyBlobs(db, dir, silent), 2)
  const images = await findImages(db.kysely, [queued.id, done.id, dead.id, orphan])
  assert.deepEqual([...images.keys()].sort(), [queued.id, dead.id].sort())
  assert.equal(images.get(queued.id)?.toString(), 'q')
  assert.equal(existsSync(dir), false, 'the folder is gone')
  assert.equal(await importLegacyBlobs(db, dir, silent), 0, 'a second start has nothing to do')
})
