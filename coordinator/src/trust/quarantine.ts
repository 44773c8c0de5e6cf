import { retryTransient, type Db } from '../db/create-db.ts'
import * as eventsRepo from '../db/event.repository.ts'
import * as opinionsRepo from '../db/opinion.repository.ts'
import * as identitiesRepo from '../db/volunteer-identity.repository.ts'
import * as volunteerJobsRepo from '../db/volunteer-job.repository.ts'
import type { ClusterSignals } from '../jobs/cluster-signals.ts'
import type { Logger } from '../jobs/logger.ts'
import type { WorkerRegistry } from '../workers/worker-registry.ts'

const CLOSE_POLICY = 1008

/**
 * Quarantine: a volunteer identity that failed a known-answer check, or that a trusted worker clearly
 * contradicted, is barred. In one commit every answer it gave that nobody has confirmed yet is forgotten (a
 * job it made wait for a trusted worker goes back to volunteers when the answers left agree) and every
 * coordinator is told, so its tabs are closed wherever they are connected and cannot rejoin.
 */
export class Quarantine {
  constructor(
    private readonly db: Db,
    private readonly registry: WorkerRegistry,
    private readonly signals: ClusterSignals,
    private readonly log: Logger,
    private readonly events: { requeued(): void },
  ) {}

  async quarantine(identity: string, reason: string, now: number): Promise<void> {
    const forgotten = await retryTransient(() => this.db.kysely.transaction().execute(async (trx) => {
      await identitiesRepo.quarantineIdentity(trx, this.db.dialect, identity, reason, now)
      const jobIds = await opinionsRepo.deleteOpinionsBy(trx, identity)
      await volunteerJobsRepo.reopenSettledByOpinions(trx, jobIds)
      await eventsRepo.appendEvents(trx, [this.signals.row({ kind: 'identity.barred', identity, reason }, now), this.signals.row({ kind: 'jobs.queued' }, now)])
      return jobIds.length
    }))
    this.log.warn({ identity, reason, forgottenAnswers: forgotten }, 'volunteer quarantined')
    this.close(identity, `quarantined: ${reason}`)
    this.events.requeued()
  }

  /** Closes this coordinator's sessions of an identity that is barred (quarantined here or by a peer, or its link revoked). */
  close(identity: string, reason: string): void {
    for (const w of this.registry.ofIdentity(identity)) w.channel.close(CLOSE_POLICY, reason.slice(0, 120))
  }
}
