import { createHash } from 'node:crypto'
import type { WorkerHello } from '@hivesight/protocol'
import { v7 as uuidv7 } from 'uuid'
import type { Db } from '../db/create-db.ts'
import * as sessionsRepo from '../db/worker-session.repository.ts'
import * as workersRepo from '../db/worker.repository.ts'
import type { WorkerFigures } from '../workers/worker-figures.ts'
import { checkWorkerCredential, parseWorkerCredential } from '../auth/worker-credentials.ts'
import * as identitiesRepo from '../db/volunteer-identity.repository.ts'
import * as credentialsRepo from '../db/worker-credential.repository.ts'
import * as linksRepo from '../db/join-link.repository.ts'
import { admitVolunteer, volunteerSlots } from '../trust/volunteer-admission.ts'
import type { WorkerChannel, WorkerRegistry, WorkerTrust } from '../workers/worker-registry.ts'
import type { Clock } from './clock.ts'
import type { DispatchPump } from './dispatch-pump.ts'
import type { LeaseRecovery } from './lease-recovery.ts'
import type { Logger } from './logger.ts'

/** A worker registered (with the slots it may use), or refused; `taken` = its token's sessions are all live. */
export type Joined = { ok: true; id: string; slots: number } | { ok: false; reason: string; taken: boolean }

/**
 * Workers joining and leaving this coordinator: one live session per token (claimed in the database, so
 * across coordinators), a row other coordinators can see, and every job of a worker that leaves taken back
 * at once.
 */
export class WorkerSessions {
  constructor(
    private readonly db: Db,
    private readonly registry: WorkerRegistry,
    private readonly figures: WorkerFigures,
    private readonly recovery: LeaseRecovery,
    private readonly pump: DispatchPump,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: { coordinatorId: string; staleAfterMs: number },
  ) {}

  /** Before any worker connects: this coordinator's previous run (a crash, kill -9) left workers with no socket. */
  async start(): Promise<void> {
    try {
      const freed = await sessionsRepo.releaseCoordinatorSessions(this.db.kysely, this.opts.coordinatorId)
      const previous = await workersRepo.workerIdsOfCoordinator(this.db.kysely, this.opts.coordinatorId)
      const lost = await this.recovery.takeBack({ workerIds: previous }, this.clock.now())
      await workersRepo.deleteWorkers(this.db.kysely, previous)
      if (freed + previous.length > 0) this.log.info({ sessions: freed, workers: previous.length, ...lost }, 'took back what this coordinator\'s previous run held')
    } catch (err) {
      // Not fatal: the sweep takes those over once they go stale.
      this.log.warn({ err }, 'could not take back what the previous run held')
    }
  }

  /**
   * Registers a worker. A volunteer must not be quarantined and its join link must still admit tabs. With a
   * session token, one of the token's live sessions (a link may admit several tabs) is claimed first. A
   * database error frees the session and is thrown to the caller.
   */
  async join(hello: WorkerHello, channel: WorkerChannel, remoteAddress: string | null, sessionToken: string | undefined, trust: WorkerTrust): Promise<Joined> {
    const id = uuidv7()
    const now = this.clock.now()
    let sessions = 1
    const credential = sessionToken === undefined ? undefined : parseWorkerCredential(sessionToken)
    if (credential) {
      const row = await credentialsRepo.findWorkerCredential(this.db.kysely, credential.name)
      const check = checkWorkerCredential(row, credential.secret, now)
      if (!check.ok) return { ok: false, reason: check.reason, taken: false }
      sessions = Number(row!.max_sessions)
    } else if (!trust.trusted) {
      const admission = await this.admission(trust.identity, sessionToken !== undefined, now)
      if (!admission.ok) return { ok: false, reason: admission.reason, taken: false }
      sessions = admission.sessions
    }
    const claimed = sessionToken !== undefined
    if (claimed && !(await this.claimSession(sessionToken, sessions, id, now))) {
      return { ok: false, reason: sessions > 1 ? `this token's ${sessions} sessions are all live` : 'this token already has a live session', taken: true }
    }
    const slots = trust.trusted ? hello.slots : volunteerSlots(hello.slots)
    try {
      await workersRepo.insertWorker(this.db.kysely, {
        id, kind: hello.kind, name: hello.name ?? null, slots, backend: hello.backend, threads: hello.threads, simd: hello.simd ? 1 : 0,
        user_agent: hello.userAgent ?? null, remote_address: remoteAddress, connected_at: now, last_seen_at: now, jobs_done: 0,
        coordinator_id: this.opts.coordinatorId, trusted: trust.trusted ? 1 : 0, identity: trust.trusted ? null : trust.identity,
      })
    } catch (err) {
      if (claimed) await sessionsRepo.releaseSessions(this.db.kysely, [id]).catch(() => undefined) // else it goes stale in 3 sweeps
      throw err
    }
    this.registry.add({ id, hello, trust, slots, draining: false, channel })
    this.figures.start(id, now)
    this.log.info({ workerId: id, kind: hello.kind, slots, name: hello.name, trusted: trust.trusted, identity: trust.identity }, 'worker joined')
    this.pump.pump()
    return { ok: true, id, slots }
  }

  private async admission(identity: string, withLink: boolean, now: number) {
    const [record, link] = await Promise.all([
      identitiesRepo.findIdentity(this.db.kysely, identity),
      withLink ? linksRepo.findJoinLink(this.db.kysely, identity) : Promise.resolve(null),
    ])
    return admitVolunteer({ link: link === undefined ? 'unknown' : link, quarantinedAt: record?.quarantined_at ?? null }, now)
  }

  /** One of the token's `sessions` live sessions (keyed by the hash of the token, then of `<token>#n`). */
  private async claimSession(token: string, sessions: number, workerId: string, now: number): Promise<boolean> {
    for (let n = 0; n < sessions; n++) {
      const hash = createHash('sha256').update(n === 0 ? token : `${token}#${n}`).digest('hex')
      const claim = { tokenHash: hash, workerId, coordinatorId: this.opts.coordinatorId }
      if (await sessionsRepo.claimSession(this.db.kysely, claim, now, now - this.opts.staleAfterMs)) return true
    }
    return false
  }

  /** A worker is gone: every job it held goes back to the queue at once. */
  async leave(id: string): Promise<void> {
    const w = this.registry.remove(id)
    if (!w) return
    this.figures.forget(id)
    const lost = await this.recovery.takeBack({ workerIds: [id] }, this.clock.now())
    await workersRepo.deleteWorkers(this.db.kysely, [id])
    await sessionsRepo.releaseSessions(this.db.kysely, [id])
    this.log.info({ workerId: id, ...lost }, 'worker left')
  }

  draining(id: string): void {
    const w = this.registry.setDraining(id)
    this.log.info({ workerId: id, holding: w?.inFlight.size ?? 0 }, 'worker is draining')
  }
}
