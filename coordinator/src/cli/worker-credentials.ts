import { createWorkerCredential, credentialIdentity } from '../auth/worker-credentials.ts'
import type { Db } from '../db/create-db.ts'
import { appendEvents } from '../db/event.repository.ts'
import { listWorkerCredentials, revokeWorkerCredential } from '../db/worker-credential.repository.ts'
import { signalRow } from '../jobs/cluster-signals.ts'

export const WORKER_USAGE = `npm run keys -- worker create --name VM [--days 90] [--pages 16] | worker list | worker revoke VM

Credentials for worker VMs: each VM gets its own (give it to the runtime as WORKER_CREDENTIAL, or a file named
by WORKER_CREDENTIAL_FILE; never on a command line). It expires, can be revoked (its pages are closed on
every coordinator within a second), and admits at most --pages pages at once.`

function positive(name: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback
  const n = Number(raw)
  if (!Number.isFinite(n) || n <= 0 || n > max) throw new Error(`--${name} must be a number from 1 to ${max} (got ${raw})`)
  return n
}

export async function workerCredentialCommand(db: Db, args: { sub?: string; name?: string; days?: string; pages?: string }, now: number): Promise<void> {
  if (args.sub === 'create') {
    if (!args.name) throw new Error('worker create needs --name (the VM\'s name)')
    const { credential, expiresAt } = await createWorkerCredential(db, args.name, positive('days', args.days, 90, 3650), Math.round(positive('pages', args.pages, 16, 64)), now)
    console.log(`created a worker credential for "${args.name}", valid until ${new Date(expiresAt).toISOString()}. It is shown only this once:\n\n  ${credential}\n\nOn that VM: WORKER_CREDENTIAL='${credential}' npm run worker -- --coordinator http://COORDINATOR:8080`)
  } else if (args.sub === 'list') {
    for (const c of await listWorkerCredentials(db.kysely)) {
      const state = c.revoked_at ? `REVOKED ${new Date(Number(c.revoked_at)).toISOString()}` : Number(c.expires_at) <= now ? 'EXPIRED' : `valid until ${new Date(Number(c.expires_at)).toISOString()}`
      console.log(`${c.name.padEnd(24)} ${String(c.max_sessions).padStart(2)} pages  ${state}`)
    }
  } else if (args.sub === 'revoke') {
    if (!args.name) throw new Error('worker revoke needs the VM\'s name (see worker list)')
    if (!(await revokeWorkerCredential(db.kysely, args.name, now))) {
      console.log(`no active worker credential named ${args.name}`)
      process.exitCode = 1
      return
    }
    // Every coordinator reads this signal within a second and closes that VM's pages.
    await appendEvents(db.kysely, [signalRow({ kind: 'identity.barred', identity: credentialIdentity(args.name), reason: 'its worker credential was revoked' }, 'keys-cli', now)])
    console.log(`revoked ${args.name}; its pages are closed and refused from now on`)
  } else {
    throw new Error(`usage: ${WORKER_USAGE}`)
  }
}
