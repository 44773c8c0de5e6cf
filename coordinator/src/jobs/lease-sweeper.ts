import type { Db } from '../db/create-db.ts'
import * as jobsRepo from '../db/job.repository.ts'
import * as sessionsRepo from '../db/worker-session.repository.ts'
import * as workersRepo from '../db/worker.repository.ts'
import type { WorkerFigures } from '../workers/worker-figures.ts'
import type { WorkerRegistry } from '../workers/worker-registry.ts'
import type { AnswerRecorder } from './answer-recorder.ts'
import type { Clock } from './clock.ts'
import type { ClusterSignals } from './cluster-signals.ts'
import type { DispatchPump } from './dispatch-pump.ts'
import type { LeaseRecovery } from './lease-recovery.ts'
import { expiredHeld } from './lease.ts'
import type { Logger } from './logger.ts'
import { purgeFinishedJobs } from './retention.ts'

export interface SweepOptions {
  intervalMs: number
  /** A worker nobody touched for this long belongs to a coordinator that died. */
  staleAfterMs: number
  /** Finished jobs are deleted this long after they finished. */
  retentionMs: number
}

// Signals are read within ~100 ms; a minute is plenty for a coordinator that stalled.
const EVENTS_KEPT_MS = 60_000
// Housekeeping (purge, event pruning) every this many sweeps.
const HOUSEKEEPING_EVERY = 15

/**
 * Covers what no event announces: leases that ran out, workers of a coordinator that died, back-offs that
 * are over, signals that were missed. One sweep at a time (each schedules the next when it ends), every time
 * from the shared clock; it vouches for this coordinator's workers first, so a slow step (e.g. replaying
 * buffered answers, which comes next) cannot make them look dead to the others.
 */
export class LeaseSweeper {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private stopped = false
  private sweeps = 0

  constructor(
    private readonly db: Db,
    private readonly registry: WorkerRegistry,
    private readonly figures: WorkerFigures,
    private readonly recovery: LeaseRecovery,
    private readonly pump: DispatchPump,
    private readonly answers: AnswerRecorder,
    private readonly signals: ClusterSignals,
    private readonly clock: Clock & { sync?: () => Promise<void> },
    private readonly log: Logger,
    private readonly opts: SweepOptions,
  ) {}

  start(): void {
    void this.sweep().finally(() => this.schedule())
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    await this.running
  }

  private schedule(): void {
    if (this.stopped) return
    this.timer = setTimeout(() => void this.sweep().finally(() => this.schedule()), this.opts.intervalMs)
    this.timer.unref()
  }

  /** Runs a sweep, or waits for the one in progress. */
  sweep(): Promise<void> {
    if (this.stopped) return Promise.resolve()
    this.running ??= this.sweepOnce().finally(() => {
      this.running = undefined
    })
    return this.running
  }

  private async sweepOnce(): Promise<void> {
    try {
      await this.clock.sync?.()
      const now = this.clock.now()
      const ids = this.registry.ids()
      await workersRepo.touchWorkers(this.db.kysely, ids, now, this.registry.takeJobsDone(), this.figures.readAll(ids, now))
      await sessionsRepo.touchSessions(this.db.kysely, ids, now)
      // Answers kept through an outage go in before any lease is judged expired: their leases may have run
      // out while the database was away, and taking them back first would run those jobs again.
      const answersPending = this.answers.bufferedCount > 0
      await this.answers.flushBuffered().catch((err: unknown) => this.log.warn({ err }, 'buffered answers still wait for the database'))
      if (answersPending && this.answers.bufferedCount > 0) return this.pump.jobsMayBeQueued()
      // Leases that ran out on a live worker: tell it to drop the job and free the slot.
      for (const w of this.registry.all()) {
        for (const jobId of expiredHeld(w.inFlight, now)) this.pump.dropOnWorker(w.id, jobId, w.inFlight.get(jobId)!.token, 'lease expired')
      }
      const stale = (await workersRepo.findStaleWorkerIds(this.db.kysely, now - this.opts.staleAfterMs)).filter((id) => !this.registry.get(id))
      if (stale.length > 0) {
        const lost = await this.recovery.takeBack({ workerIds: stale }, now)
        await workersRepo.deleteWorkers(this.db.kysely, stale)
        await sessionsRepo.releaseSessions(this.db.kysely, stale)
        this.log.info({ workers: stale.length, ...lost }, 'took back the jobs of workers nobody vouches for')
      }
      const expired = await this.recovery.takeBack({ expiredAt: now }, now)
      if (expired.requeued + expired.dead > 0) this.log.warn(expired, 'took back jobs whose lease expired')
      if ((await jobsRepo.promoteDueJobs(this.db.kysely, now)) > 0) await this.signals.publish({ kind: 'jobs.queued' }, now)
      if (++this.sweeps % HOUSEKEEPING_EVERY === 1) await this.housekeeping(now)
    } catch (err) {
      this.log.error({ err }, 'sweep failed; it runs again on the next tick')
    }
    // Whatever a signal may have missed.
    this.pump.jobsMayBeQueued()
  }

  private async housekeeping(now: number): Promise<void> {
    await this.signals.prune(now - EVENTS_KEPT_MS)
    const purged = await purgeFinishedJobs(this.db, now - this.opts.retentionMs)
    if (purged > 0) this.log.info({ purged }, 'purged finished jobs past their retention')
  }
}
