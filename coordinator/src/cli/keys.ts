import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createApiKey } from '../auth/api-keys.ts'
import { REPO_ROOT } from '../config.ts'
import { createDb } from '../db/create-db.ts'
import { listApiKeys, revokeApiKey } from '../db/api-key.repository.ts'
import { migrateToLatest } from '../db/migrate.ts'

const USAGE = `usage: npm run keys -- create --name NAME | list | revoke ID_OR_PREFIX

API keys for the REST API (AUTH_MODE=keys, the coordinator's default). Uses the same database as the
coordinator: DATABASE_URL, else the SQLite file in DATA_DIR (default ./data). A new key is printed once;
only its hash is stored.`

const { values, positionals } = parseArgs({ allowPositionals: true, options: { name: { type: 'string' }, help: { type: 'boolean', short: 'h' } } })
const [command, arg] = positionals
if (values.help || !command) {
  console.log(USAGE)
  process.exit(values.help ? 0 : 2)
}
const dataDir = process.env.DATA_DIR ?? join(REPO_ROOT, 'data')
const db = process.env.DATABASE_URL ? createDb({ databaseUrl: process.env.DATABASE_URL }) : createDb({ sqliteFile: join(dataDir, 'hivesight.sqlite') })
try {
  await migrateToLatest(db.kysely)
  if (command === 'create') {
    const name = values.name?.trim()
    if (!name || name.length > 100) throw new Error('--name is required (at most 100 characters)')
    const { key, prefix, id } = await createApiKey(db, name, Date.now())
    console.log(`created API key "${name}" (id ${id}, prefix ${prefix}). It is shown only this once:\n\n  ${key}\n\nUse it as: curl -H "Authorization: Bearer ${key}" -F image=@cat.jpg http://localhost:8080/api/v1/jobs`)
  } else if (command === 'list') {
    for (const k of await listApiKeys(db.kysely)) {
      console.log(`${k.key_prefix}…  ${k.name.padEnd(24)} created ${new Date(Number(k.created_at)).toISOString()}${k.revoked_at ? `  REVOKED ${new Date(Number(k.revoked_at)).toISOString()}` : ''}`)
    }
  } else if (command === 'revoke') {
    if (!arg) throw new Error('revoke needs the key id or its prefix (see list)')
    const n = await revokeApiKey(db.kysely, arg, Date.now())
    console.log(n ? `revoked ${n} key(s); coordinators stop accepting them within 10 s` : `no active key with id or prefix ${arg}`)
    if (!n) process.exitCode = 1
  } else {
    throw new Error(`unknown command ${command}\n${USAGE}`)
  }
} catch (err) {
  console.error(`hivesight keys: ${err instanceof Error ? err.message : String(err)}`)
  process.exitCode = 1
} finally {
  await db.kysely.destroy()
}
