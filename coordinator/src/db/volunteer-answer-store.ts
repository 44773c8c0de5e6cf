import { retryTransient, type Db } from './create-db.ts'
import * as eventsRepo from './event.repository.ts'
import * as imagesRepo from './image.repository.ts'
import * as jobsRepo from './job.repository.ts'
import * as opinionsRepo from './opinion.repository.ts'
import * as volunteerJobsRepo from './volunteer-job.repository.ts'

type Fence = { id: string; token: number; workerId: string }

/** What a volunteer's answer made of its job, decided by the caller's pure rule on the locked facts. */
export type OpinionOutcome =
  | { outcome: 'stale' }
  /** Final: the result of `accepted` (an opinion's identity) was written. */
  | { outcome: 'final'; accepted: string; agreed: string[] }
  /** Kept; the job waits for another answer (`needsTrusted`: only a trusted worker's). */
  | { outcome: 'kept'; needsTrusted: boolean }

export type OpinionDecision =
  | { kind: 'final'; accepted: opinionsRepo.OpinionRow; agreed: string[] }
  | { kind: 'wait'; needsTrusted: boolean }

/** What volunteers' answers need of storage; the service's unit tests can hand it a fake. */
export interface VolunteerAnswerStore {
  /**
   * One transaction: the job's lease (fenced) and the answers given so far are locked and read, `decide`
   * (pure) says what the new answer makes of them, and that is written: the final result, or the answer kept
   * and the job queued again with no attempt used.
   */
  applyOpinion(fence: Fence, mine: opinionsRepo.OpinionRow, decide: (earlier: opinionsRepo.OpinionRow[]) => OpinionDecision, signals: { finished: eventsRepo.NewEvent; queued: eventsRepo.NewEvent }): Promise<OpinionOutcome>
  /** A volunteer said it could not classify the image: never final on its word, a trusted worker decides. */
  applyFailure(fence: Fence, now: number, queued: eventsRepo.NewEvent): Promise<boolean>
}

export class SqlVolunteerAnswerStore implements VolunteerAnswerStore {
  constructor(private readonly db: Db) {}

  applyOpinion(fence: Fence, mine: opinionsRepo.OpinionRow, decide: (earlier: opinionsRepo.OpinionRow[]) => OpinionDecision, signals: { finished: eventsRepo.NewEvent; queued: eventsRepo.NewEvent }): Promise<OpinionOutcome> {
    return retryTransient(() => this.db.kysely.transaction().execute(async (trx): Promise<OpinionOutcome> => {
      const [facts] = await jobsRepo.lockLeaseStates(trx, this.db.dialect, [fence.id])
      if (!facts || facts.status !== 'running' || Number(facts.lease_token) !== fence.token || facts.worker_id !== fence.workerId) return { outcome: 'stale' }
      const earlier = await opinionsRepo.opinionsOf(trx, [fence.id])
      const d = decide(earlier)
      if (d.kind === 'final') {
        await jobsRepo.completeJobsFenced(trx, this.db.dialect, [{ ...fence, resultJson: d.accepted.result_json }], mine.created_at)
        await imagesRepo.deleteImages(trx, [fence.id])
        await opinionsRepo.deleteOpinionsOfJobs(trx, [fence.id])
        await eventsRepo.appendEvents(trx, [signals.finished])
        return { outcome: 'final', accepted: d.accepted.identity, agreed: d.agreed }
      }
      await opinionsRepo.insertOpinion(trx, mine)
      await volunteerJobsRepo.requeueForAnotherAnswer(trx, fence, mine.created_at, d.needsTrusted, true)
      await eventsRepo.appendEvents(trx, [signals.queued])
      return { outcome: 'kept', needsTrusted: d.needsTrusted }
    }))
  }

  applyFailure(fence: Fence, now: number, queued: eventsRepo.NewEvent): Promise<boolean> {
    return retryTransient(() => this.db.kysely.transaction().execute(async (trx) => {
      const done = await volunteerJobsRepo.requeueForAnotherAnswer(trx, fence, now, true, false)
      if (done) await eventsRepo.appendEvents(trx, [queued])
      return done
    }))
  }
}
