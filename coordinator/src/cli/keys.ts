import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createApiKey } from '../auth/api-keys.ts'
import { REPO_ROOT } from '../config.ts'
import { createDb } from '../db/create-db.ts'
import { listApiKeys, revokeApiKey } from '../db/api-key.repository.ts'
import { migrateToLatest } from '../db/migrate.ts'
import { joinLinkCommand, LINK_USAGE } from './join-links.ts'
import { WORKER_USAGE, workerCredentialCommand } from './worker-credentials.ts'

const USAGE = `usage: npm run keys -- create --name NAME [--admin] [--volunteers] | list | revoke ID_OR_PREFIX
       ${WORKER_USAGE.split('\n')[0]}
       ${LINK_USAGE.split('\n')[0]}

API keys for the REST API (AUTH_MODE=keys, the coordinator's default). --admin: may make, list and revoke
join links. --volunteers: this key's jobs may go to volunteer tabs (VOLUNTEER_JOBS=per-key, the default).
Uses the same database as the coordinator: DATABASE_URL, else the SQLite file in DATA_DIR (default ./data).
A new key or credential is printed once; only its hash is stored.

${WORKER_USAGE.split('\n').slice(2).join('\n')}

${LINK_USAGE.split('\n').slice(2).join('\n')}`

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    name: { type: 'string' }, admin: { type: 'boolean' }, volunteers: { type: 'boolean' }, days: { type: 'string' }, pages: { type: 'string' },
    hours: { type: 'string' }, sessions: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
})
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
    const { key, prefix, id } = await createApiKey(db, name, Date.now(), { admin: values.admin, volunteers: values.volunteers })
    const rights = [values.admin ? 'admin' : '', values.volunteers ? 'jobs may go to volunteers' : ''].filter(Boolean).join(', ')
    console.log(`created API key "${name}" (id ${id}, prefix ${prefix}${rights ? `; ${rights}` : ''}). It is shown only this once:\n\n  ${key}\n\nUse it as: curl -H "Authorization: Bearer ${key}" -F image=@cat.jpg http://localhost:8080/api/v1/jobs`)
  } else if (command === 'list') {
    for (const k of await listApiKeys(db.kysely)) {
      const rights = [Number(k.admin) ? 'admin' : '', Number(k.volunteers) ? 'volunteers' : ''].filter(Boolean).join(',')
      console.log(`${k.key_prefix}…  ${k.name.padEnd(24)} ${rights.padEnd(17)} created ${new Date(Number(k.created_at)).toISOString()}${k.revoked_at ? `  REVOKED ${new Date(Number(k.revoked_at)).toISOString()}` : ''}`)
    }
  } else if (command === 'revoke') {
    if (!arg) throw new Error('revoke needs the key id or its prefix (see list)')
    const n = await revokeApiKey(db.kysely, arg, Date.now())
    console.log(n ? `revoked ${n} key(s); coordinators stop accepting them within 10 s` : `no active key with id or prefix ${arg}`)
    if (!n) process.exitCode = 1
  } else if (command === 'link') {
    await joinLinkCommand(db, { sub: arg, name: values.name ?? positionals[2], hours: values.hours, sessions: values.sessions })
  } else if (command === 'worker') {
    await workerCredentialCommand(db, { sub: arg, name: values.name ?? positionals[2], days: values.days, pages: values.pages }, Date.now())
  } else {
    throw new Error(`unknown command ${command}\n${USAGE}`)
  }
} catch (err) {
  console.error(`hivesight keys: ${err instanceof Error ? err.message : String(err)}`)
  process.exitCode = 1
} finally {
  await db.kysely.destroy()
}
