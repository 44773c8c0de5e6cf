import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { RowDataPacket } from 'mysql2'
import { createConnection } from 'mysql2/promise'
import { ConfigError, loadConfig } from '../../src/config.ts'
import { createDb } from '../../src/db/create-db.ts'
import { checkServerLimits, readServerLimits } from '../../src/db/server-limits.ts'
import { largest, writeSetBound } from '../../src/db/write-set-bound.ts'
import { DIALECTS, MARIADB_URL } from '../support/databases.ts'

const T = { timeout: 20_000 }
const skip = DIALECTS.includes('mariadb') ? false : 'DIALECTS leaves MariaDB out'

test('on MariaDB the check reads the server\'s own values, passes with the defaults and refuses a config whose statements are bigger than max_allowed_packet', { ...T, skip }, async (t) => {
  const db = createDb({ databaseUrl: MARIADB_URL })
  const url = new URL(MARIADB_URL)
  const admin = await createConnection({ host: url.hostname, port: Number(url.port || 3306), user: url.username || 'root', password: decodeURIComponent(url.password) })
  t.after(async () => {
    await db.kysely.destroy()
    await admin.end()
  })
  const [[packet]] = await admin.query<RowDataPacket[]>('select @@max_allowed_packet as v')
  const [wsrep] = await admin.query<RowDataPacket[]>("show variables like 'wsrep_on'")
  const limits = await readServerLimits(db)
  assert.equal(limits.maxAllowedPacket, Number(packet!.v))
  assert.equal(limits.galera !== null, wsrep[0]?.Value === 'ON')
  if (limits.galera) {
    const [[ws]] = await admin.query<RowDataPacket[]>('select @@wsrep_max_ws_size as v')
    assert.equal(limits.galera.maxWsSize, Number(ws!.v))
  }

  assert.deepEqual(await checkServerLimits(db, loadConfig({})), [], 'the defaults fit a default server')

  // 10 000 images per request: one commit's Idempotency-Key INSERT can be ~30 MB, more than a default server's 16 MiB.
  const many = loadConfig({ MAX_IMAGES_PER_REQUEST: '10000' })
  const needed = largest(writeSetBound(many).statements).bytes
  assert.ok(needed > limits.maxAllowedPacket, `${needed} bytes against ${limits.maxAllowedPacket} on this server`)
  await assert.rejects(checkServerLimits(db, many), (err: unknown) => {
    assert.ok(err instanceof ConfigError)
    assert.match(err.message, new RegExp(`max_allowed_packet is ${limits.maxAllowedPacket} bytes .* can be ${needed} bytes .*Raise max_allowed_packet .*, or lower MAX_IMAGES_PER_REQUEST\\.`))
    return true
  })
})

test('on SQLite there is nothing to check', T, async () => {
  const db = createDb({ sqliteFile: ':memory:' })
  try {
    assert.deepEqual(await checkServerLimits(db, loadConfig({ MAX_IMAGES_PER_REQUEST: '10000' })), [])
  } finally {
    await db.kysely.destroy()
  }
})
