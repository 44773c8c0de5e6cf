import { JoinLinkService } from '../auth/join-link-service.ts'
import type { Db } from '../db/create-db.ts'
import { appendEvents } from '../db/event.repository.ts'
import { systemClock } from '../jobs/clock.ts'
import { signalRow } from '../jobs/cluster-signals.ts'

export const LINK_USAGE = `npm run keys -- link create [--name NAME] [--hours 24] [--sessions 1] | link list | link revoke NAME

Join links for volunteer tabs, made by the operator (the API does it with an admin key). Needs JOIN_TOKEN
in the environment, as the coordinator has it; links point at PUBLIC_URL (else http://localhost:8080).`

export async function joinLinkCommand(db: Db, args: { sub?: string; name?: string; hours?: string; sessions?: string }): Promise<void> {
  const secret = process.env.JOIN_TOKEN
  if (!secret) throw new Error('join links need JOIN_TOKEN in the environment (the coordinator\'s)')
  // Another process: a revocation reaches the coordinators as a signal in the database they share.
  const bar = async (identity: string, reason: string) =>
    appendEvents(db.kysely, [signalRow({ kind: 'identity.barred', identity, reason }, 'keys-cli', Date.now())])
  const links = new JoinLinkService(db, secret, systemClock, bar)
  if (args.sub === 'create') {
    const hours = Number(args.hours ?? 24)
    const sessions = Number(args.sessions ?? 1)
    if (!Number.isInteger(hours) || hours < 1 || hours > 720) throw new Error('--hours must be a whole number from 1 to 720')
    if (!Number.isInteger(sessions) || sessions < 1 || sessions > 20) throw new Error('--sessions must be a whole number from 1 to 20')
    const link = await links.mint(args.name ?? 'volunteer', hours, sessions, 'operator')
    console.log(`${process.env.PUBLIC_URL?.replace(/\/$/, '') ?? 'http://localhost:8080'}${link.path}\n(${link.name}: ${sessions} tab(s), until ${new Date(link.expiresAt).toISOString()})`)
  } else if (args.sub === 'list') {
    for (const l of await links.list()) {
      const state = l.revokedAt ? 'REVOKED' : l.expiresAt <= Date.now() ? 'expired' : `until ${new Date(l.expiresAt).toISOString()}`
      const r = l.record
      console.log(`${l.name.padEnd(40)} ${l.liveSessions}/${l.sessions} tabs  ${state}${r ? `  ${r.confirmed}/${r.answers} confirmed, checks ${r.checksPassed} passed ${r.checksFailed} failed${r.quarantinedAt ? ', QUARANTINED' : ''}` : ''}`)
    }
  } else if (args.sub === 'revoke') {
    if (!args.name) throw new Error('link revoke needs the link\'s name (see link list)')
    if (!(await links.revoke(args.name))) {
      console.log(`no active join link named ${args.name}`)
      process.exitCode = 1
      return
    }
    console.log(`revoked ${args.name}; its tabs are closed and refused from now on`)
  } else {
    throw new Error(`usage: ${LINK_USAGE}`)
  }
}
