import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Kysely, MysqlDialect } from 'kysely'
import { format } from 'mysql2'
import { loadConfig } from '../../src/config.ts'
import type { Database, NewJob } from '../../src/db/schema.ts'
import {
  FIXED_BYTES, judgeServerLimits, largest, ROW_BYTES, STATEMENT_BYTES_PER_JOB, WSREP_MAX_WS_SIZE_LIMIT, writeSetBound, type ServerLimits,
} from '../../src/db/write-set-bound.ts'

const T = { timeout: 10_000 }
const MiB = 1024 * 1024
const DEFAULTS = loadConfig({})
const PLAIN: ServerLimits = { maxAllowedPacket: 16 * MiB, galera: null }
const GALERA: ServerLimits = { maxAllowedPacket: 64 * MiB, galera: { maxWsSize: WSREP_MAX_WS_SIZE_LIMIT, binlogRowImage: 'NOBLOB' } }

test('with the defaults one upload is the largest write set (64 × 10 MiB + rows ≈ 640.6 MiB) and one image the largest statement', T, () => {
  const b = writeSetBound(DEFAULTS)
  const upload = 64 * (10 * MiB + ROW_BYTES) + FIXED_BYTES
  assert.equal(upload, 671_678_464)
  assert.deepEqual([largest(b.transactions).bytes, largest(b.transactions).lower], [upload, 'MAX_IMAGES_PER_REQUEST or MAX_IMAGE_BYTES'])
  assert.equal(b.transactions[1]!.bytes, 16 * MiB + 2_000 * ROW_BYTES + FIXED_BYTES, 'a group of several uploads: the per-commit caps')
  assert.ok(b.transactions[2]!.bytes < upload, `a model upload: ${b.transactions[2]!.bytes}`)
  assert.deepEqual([largest(b.statements).bytes, largest(b.statements).lower], [10 * MiB + 64 + FIXED_BYTES, 'MAX_IMAGE_BYTES'])
  assert.equal(b.deletes.bytes, 1_000 * (10 * MiB + ROW_BYTES) + FIXED_BYTES, 'a purge of 1 000 dead jobs, each keeping its image')
})

test('the bound follows the config: one image per request (and small models) leaves the group cap; big models and many images per request take over', T, () => {
  const one = writeSetBound({ ...DEFAULTS, maxImagesPerRequest: 1, maxModelBytes: MiB, maxModelClasses: 10 })
  assert.equal(largest(one.transactions).what, 'a group commit of several uploads')
  const models = writeSetBound({ ...DEFAULTS, maxModelBytes: 1024 * MiB })
  assert.match(largest(models.transactions).what, /^one model upload/)
  const many = writeSetBound({ ...DEFAULTS, maxImagesPerRequest: 10_000 })
  assert.equal(largest(many.statements).bytes, 10_000 * STATEMENT_BYTES_PER_JOB + FIXED_BYTES, "one request's 10 000 entries in its Idempotency-Key row")
  assert.equal(writeSetBound({ ...DEFAULTS, maxImageBytes: 1024 }).statements[0]!.bytes, 4 * MiB + 2_000 * 64 + FIXED_BYTES, 'small images: a batch of them')
})

test('the per-job allowances hold for the worst job: 255-character filenames, the longest keys, as SQL text and as row bytes', T, () => {
  const db = new Kysely<Database>({ dialect: new MysqlDialect({ pool: async () => Promise.reject(new Error('compile only')) }) })
  const id = '0192f3a4-5b6c-7d8e-9f01-23456789abcd'
  for (const filename of ['\ud800'.repeat(255), '"'.repeat(255), '€'.repeat(255), '\\'.repeat(255)]) {
    // A job leased in its upload's commit has the most columns set.
    const job: NewJob = {
      id, status: 'running', priority: -1000, attempts: 1, max_attempts: 100, lease_token: 1, submitted_at: 1.8e12, available_at: 1.8e12,
      filename, content_type: 'x'.repeat(64), byte_size: 15 * MiB, width: 65_535, height: 65_535, owner_key_id: id, volunteers_allowed: 1,
      model_version_id: 'x'.repeat(64), worker_id: id, started_at: 1.8e12, lease_expires_at: 1.8e12,
    }
    const response = JSON.stringify({ jobs: [{ id, status: 'queued', filename, url: `/api/v1/jobs/${id}` }] })
    const key = { idem_key: `${id}:${'\\'.repeat(200)}`, fingerprint: 'f'.repeat(64), response_json: response, created_at: 1.8e12 }
    const sqlOf = (q: { compile(): { sql: string; parameters: readonly unknown[] } }) => {
      const c = q.compile()
      return Buffer.byteLength(format(c.sql, c.parameters as Parameters<typeof format>[1]))
    }
    const jobSql = sqlOf(db.insertInto('jobs').values(job))
    const keySql = sqlOf(db.insertInto('idempotency_keys').values(key))
    assert.ok(jobSql <= STATEMENT_BYTES_PER_JOB && keySql <= STATEMENT_BYTES_PER_JOB, `SQL: jobs row ${jobSql}, key row ${keySql}`)
    // In the write set: the rows (strings with a 2-byte length, numbers as 8) and the statements' text; the
    // rest of ROW_BYTES is for event headers and Galera's keys.
    const rowBytes = (row: object) => Object.values(row).reduce<number>((n, v) => n + (typeof v === 'string' ? Buffer.byteLength(v) + 2 : 8), 16)
    const writeSet = rowBytes(job) + rowBytes({ job_id: id }) + rowBytes(key) + jobSql + keySql
    assert.ok(writeSet <= ROW_BYTES - 512, `write set bytes ${writeSet}`)
  }
})

test('a server that can take the largest statement and write set passes; one that cannot is refused with the setting, both values and the fix', T, () => {
  const b = writeSetBound(DEFAULTS)
  assert.deepEqual(judgeServerLimits(b, PLAIN), { refusals: [], warnings: [] })
  assert.deepEqual(judgeServerLimits(b, GALERA), { refusals: [], warnings: [] })

  const small = judgeServerLimits(b, { maxAllowedPacket: 8 * MiB, galera: null })
  assert.equal(small.refusals.length, 1)
  assert.match(small.refusals[0]!, /^max_allowed_packet is 8388608 bytes \(8\.0 MiB\) but the images INSERT .* can be 10551360 bytes .*at least 11M, or lower MAX_IMAGE_BYTES\.$/)

  const ws = judgeServerLimits(b, { ...GALERA, galera: { maxWsSize: 128 * MiB, binlogRowImage: 'MINIMAL' } })
  assert.deepEqual(ws.warnings, [])
  assert.equal(ws.refusals.length, 2, ws.refusals.join('\n'))
  assert.match(ws.refusals[0]!, /^wsrep_max_ws_size is 134217728 bytes \(128\.0 MiB\) but one upload \(MAX_IMAGES_PER_REQUEST=64 images of MAX_IMAGE_BYTES=10485760\) is one write set of up to 671678464 bytes \(640\.6 MiB\)\. Raise wsrep_max_ws_size on every node to at least 671678464, or lower MAX_IMAGES_PER_REQUEST or MAX_IMAGE_BYTES\.$/)
  assert.match(ws.refusals[1]!, /^wsrep_max_ws_size .* one model upload .*lower MAX_MODEL_BYTES or MAX_MODEL_CLASSES\.$/)

  const huge = judgeServerLimits(writeSetBound({ ...DEFAULTS, maxImagesPerRequest: 1_000 }), GALERA)
  assert.match(huge.refusals[0]!, /cannot be raised that far \(at most 2147483647\): lower MAX_IMAGES_PER_REQUEST or MAX_IMAGE_BYTES\.$/)
})

test('only a Galera node is asked about write sets; with binlog_row_image=FULL, deletes that carry images are a warning', T, () => {
  const b = writeSetBound(DEFAULTS)
  assert.deepEqual(judgeServerLimits(b, { maxAllowedPacket: 16 * MiB, galera: null }).refusals, [], 'no wsrep: no write-set limit')
  const full = judgeServerLimits(b, { ...GALERA, galera: { maxWsSize: WSREP_MAX_WS_SIZE_LIMIT, binlogRowImage: 'FULL' } })
  assert.deepEqual(full.refusals, [])
  assert.equal(full.warnings.length, 1)
  assert.match(full.warnings[0]!, /^binlog_row_image is FULL, .* a purge \(1000 dead jobs\) .* 10494017536 bytes .* over wsrep_max_ws_size, 2147483647 bytes .*\. Set binlog_row_image=NOBLOB on every node .*, or lower MAX_IMAGE_BYTES\.$/)
  const small = judgeServerLimits(writeSetBound({ ...DEFAULTS, maxImageBytes: 1024 * 1024 }), { ...GALERA, galera: { maxWsSize: WSREP_MAX_WS_SIZE_LIMIT, binlogRowImage: 'FULL' } })
  assert.deepEqual(small.warnings, [], '1 000 images of 1 MiB fit in 2 GiB')
})
