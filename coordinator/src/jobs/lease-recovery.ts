import { retryTransient, type Db } from '../db/create-db.ts'
import * as eventsRepo from '../db/event.repository.ts'
import * as jobsRepo from '../db/job.repository.ts'
import type { ClusterSignals } from './cluster-signals.ts'
import type { DispatchCounters } from './counters.ts'
import type { JobMetrics } from './job-metrics.ts'
import { splitLostLeases } from './lease.ts'

export type LostLeases = { requeued: number; dead: number }

/**
 * Takes back leases lost without an answer (worker gone, lease expired, coordinator dead): under lock,
 * each becomes queued again or dead (a pure rule), and every coordinator hears of it in the same commit.
 */
export class LeaseRecovery {
  constructor(
    private readonly db: Db,
    private readonly signals: ClusterSignals,
    private readonly metrics: JobMetrics,
    private readonly counters: DispatchCounters,
    private readonly events: { requeued(): void; finished(jobIds: string[]): void },
  ) {}

  async takeBack(scope: { workerIds?: string[]; expiredAt?: number }, now: number): Promise<LostLeases> {
    if (scope.workerIds?.length === 0) return { requeued: 0, dead: 0 }
    const decided = await retryTransient(() => this.db.kysely.transaction().execute(async (trx) => {
      const lost = await jobsRepo.lockLostLeases(trx, this.db.dialect, scope)
      const split = splitLostLeases(lost)
      await jobsRepo.takeBackLeases(trx, split, now)
      const signals = []
      if (split.requeue.length + split.requeueUncounted.length > 0) signals.push(this.signals.row({ kind: 'jobs.queued' }, now))
      if (split.dead.length > 0) signals.push(this.signals.row({ kind: 'jobs.finished', jobIds: split.dead }, now))
      await eventsRepo.appendEvents(trx, signals)
      return split
    }))
    const out = { requeued: decided.requeue.length + decided.requeueUncounted.length, dead: decided.dead.length }
    this.counters.requeuedLostLeases += out.requeued
    this.counters.deadJobs += out.dead
    this.metrics.leasesTakenBack(out.requeued, out.dead)
    if (out.requeued > 0) this.events.requeued()
    if (out.dead > 0) this.events.finished(decided.dead)
    return out
  }
}
