import assert from 'node:assert/strict'
import { test } from 'node:test'
import { findKey, insertKeys } from '../../src/db/idempotency.repository.ts'
import { DIALECTS, freshDb } from '../support/databases.ts'

for (const dialect of DIALECTS) {
  // 64 jobs with 255-character filenames is ~25 KB; 500 images or more pass 64 KiB (MariaDB's TEXT).
  test(`${dialect}: an Idempotency-Key keeps a 202 of 300 KB whole`, { timeout: 30_000 }, async () => {
    const { db, close } = await freshDb(dialect)
    try {
      const jobs = Array.from({ length: 1_000 }, (_, i) => ({ id: `0193a7c2-0000-7000-8000-${String(i).padStart(12, '0')}`, filename: `${'x'.repeat(240)}-${i}.jpg`, status: 'queued' }))
      const response = JSON.stringify({ jobs })
      assert.ok(response.length > 250_000)
      await insertKeys(db.kysely, [{ idem_key: 'k-big', fingerprint: 'f', response_json: response, created_at: 1 }])
      const row = await findKey(db.kysely, 'k-big')
      assert.equal(row?.response_json.length, response.length)
      assert.deepEqual(JSON.parse(row!.response_json), { jobs })
    } finally {
      await close()
    }
  })
}
