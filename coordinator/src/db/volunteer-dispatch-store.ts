import { retryTransient, type Db } from './create-db.ts'
import type { ClaimedJob } from './dispatch-store.ts'
import * as imagesRepo from './image.repository.ts'
import * as jobsRepo from './job.repository.ts'
import * as volunteerJobsRepo from './volunteer-job.repository.ts'

/** What dispatch to volunteers needs of storage; its unit tests can hand it a fake. */
export interface VolunteerDispatchStore {
  /** One transaction: the next jobs this volunteer may answer, leased to it (a volunteer's lease). */
  claimFor(who: { workerId: string; identity: string; network: string | null }, wanted: number, now: number, expiresAt: number, models: string[]): Promise<ClaimedJob[]>
  images(jobIds: string[]): Promise<Map<string, Buffer>>
  /** Fenced: back to the queue for trusted workers only (its image cannot be made a model input here). */
  keepFromVolunteers(jobId: string, token: number, workerId: string, now: number): Promise<boolean>
}

export class SqlVolunteerDispatchStore implements VolunteerDispatchStore {
  constructor(private readonly db: Db) {}

  claimFor(who: { workerId: string; identity: string; network: string | null }, wanted: number, now: number, expiresAt: number, models: string[]): Promise<ClaimedJob[]> {
    return retryTransient(() => this.db.kysely.transaction().execute(async (trx) => {
      const queued = await volunteerJobsRepo.selectQueuedForVolunteer(trx, this.db.dialect, wanted, who, models)
      await jobsRepo.leaseJobs(trx, this.db.dialect, queued.map((q) => ({ id: q.id, workerId: who.workerId })), now, expiresAt, true)
      return queued.map((q) => ({
        id: q.id, leaseToken: Number(q.lease_token) + 1, attempt: Number(q.attempts) + 1, contentType: q.content_type,
        submittedAt: Number(q.submitted_at), availableAt: Number(q.available_at), hasOpinions: Number(q.has_opinions) === 1, model: q.model_version_id!,
      }))
    }))
  }

  images(jobIds: string[]): Promise<Map<string, Buffer>> {
    return imagesRepo.findImages(this.db.kysely, jobIds)
  }

  keepFromVolunteers(jobId: string, token: number, workerId: string, now: number): Promise<boolean> {
    return volunteerJobsRepo.keepFromVolunteers(this.db.kysely, { id: jobId, token, workerId }, now)
  }
}
