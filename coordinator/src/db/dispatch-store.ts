import { retryTransient, type Db } from './create-db.ts'
import * as imagesRepo from './image.repository.ts'
import * as jobsRepo from './job.repository.ts'

/** A job as the claim leased it: `leaseToken` and `attempt` are the new lease's. */
export interface ClaimedJob {
  id: string
  leaseToken: number
  attempt: number
  contentType: string
  submittedAt: number
  availableAt: number
  /** Volunteers answered it before: its result is judged against theirs. */
  hasOpinions: boolean
  /** The model version it runs on. */
  model: string
  /** Set at dispatch: another version it also runs on (shadow-runs.ts). */
  shadow?: string
}

/** Which claimed job goes to which worker (a pure plan, run inside the claim's transaction). */
export type AssignmentPlan = (jobs: { id: string; model: string }[]) => Map<string, string[]>

/** Jobs queued before the model repository are adopted at start; one claimed in between runs on the built-in model. */
export const modelOf = (q: { model_version_id: string | null }, fallback: string): string => q.model_version_id ?? fallback

/** What the dispatch pump needs of storage; the pump's unit tests hand it a fake. */
export interface DispatchStore {
  /** One transaction: the next queued jobs in claim order, planned onto workers, leased. */
  claim(wanted: number, plan: AssignmentPlan, now: number, expiresAt: number): Promise<{ workerId: string; jobs: ClaimedJob[] }[]>
  images(jobIds: string[]): Promise<Map<string, Buffer>>
  /** Fenced: fails a leased job whose image cannot be read. */
  failMissing(jobId: string, token: number, workerId: string, now: number): Promise<boolean>
}

export class SqlDispatchStore implements DispatchStore {
  /** `builtIn`: the version id of the imported model (for a job queued by an older coordinator). */
  constructor(private readonly db: Db, private readonly builtIn: () => string) {}

  claim(wanted: number, plan: AssignmentPlan, now: number, expiresAt: number): Promise<{ workerId: string; jobs: ClaimedJob[] }[]> {
    return retryTransient(() => this.db.kysely.transaction().execute(async (trx) => {
      const queued = await jobsRepo.selectQueuedForUpdate(trx, this.db.dialect, wanted)
      const planned = plan(queued.map((q) => ({ id: q.id, model: modelOf(q, this.builtIn()) })))
      const leases = [...planned].flatMap(([workerId, ids]) => ids.map((id) => ({ id, workerId })))
      await jobsRepo.leaseJobs(trx, this.db.dialect, leases, now, expiresAt)
      const byId = new Map(queued.map((q) => [q.id, q]))
      return [...planned].map(([workerId, ids]) => ({
        workerId,
        jobs: ids.map((id) => {
          const q = byId.get(id)!
          return { id, leaseToken: Number(q.lease_token) + 1, attempt: Number(q.attempts) + 1, contentType: q.content_type, submittedAt: Number(q.submitted_at), availableAt: Number(q.available_at), hasOpinions: Number(q.has_opinions) === 1, model: modelOf(q, this.builtIn()) }
        }),
      }))
    }))
  }

  images(jobIds: string[]): Promise<Map<string, Buffer>> {
    return imagesRepo.findImages(this.db.kysely, jobIds)
  }

  failMissing(jobId: string, token: number, workerId: string, now: number): Promise<boolean> {
    return jobsRepo.failJob(this.db.kysely, { id: jobId, token, workerId }, now, 'IMAGE_MISSING', 'the stored image could not be read')
  }
}
