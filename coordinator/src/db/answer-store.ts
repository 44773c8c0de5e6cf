import { retryTransient, type Db } from './create-db.ts'
import * as eventsRepo from './event.repository.ts'
import * as imagesRepo from './image.repository.ts'
import * as jobsRepo from './job.repository.ts'
import * as knownRepo from './known-answer.repository.ts'
import * as opinionsRepo from './opinion.repository.ts'

export interface ResultRow {
  id: string
  token: number
  workerId: string
  resultJson: string
  /** Set when this result may become a known answer (a clear top-1): its class. */
  knownTop1?: number
  /** Volunteers may have answered this job: read their answers (false for the common case: a query saved). */
  checkOpinions?: boolean
}

/** Volunteers' answers to jobs a trusted result just finished (usually none), for the caller to judge. */
export type SettledOpinions = Pick<opinionsRepo.OpinionRow, 'job_id' | 'identity' | 'top1'>[]

type Fence = { id: string; token: number; workerId: string }

/** What a worker's failure makes of its job, decided (by the caller's pure rule) on the locked lease. */
export type FailureDecision =
  | { outcome: 'stale' }
  | { outcome: 'retry'; availableAt: number }
  | { outcome: 'failed' }
  | { outcome: 'dead'; attempts: number }

/** What the answer recorder needs of storage; its unit tests can hand it a fake. */
export interface AnswerStore {
  /**
   * Writes every result if every one is from the current holder (one fenced UPDATE), with what volunteers had
   * said of those jobs; otherwise nothing: false.
   */
  commitIfAllCurrent(rows: ResultRow[], now: number, signal: eventsRepo.NewEvent): Promise<false | SettledOpinions>
  /** Locks the rows and writes the results `current` accepts; their ids, and what volunteers had said of them. */
  commitCurrent(rows: ResultRow[], now: number, signal: (ids: string[]) => eventsRepo.NewEvent, current: (facts: jobsRepo.LeaseState | undefined, row: ResultRow) => boolean): Promise<{ ids: string[]; opinions: SettledOpinions }>
  /** Applies what `decide` makes of the locked lease: back-off, final failure (image dropped) or dead (image kept). */
  recordFailure(fence: Fence, now: number, code: string, message: string, decide: (facts: jobsRepo.LeaseState | undefined) => FailureDecision, signal: eventsRepo.NewEvent): Promise<FailureDecision['outcome']>
  /** A job handed back unstarted: queued again, no attempt counted (fenced). */
  release(fence: Fence, now: number): Promise<boolean>
}

/** Rolls back the all-current fast path: some result in the batch was stale. */
class NotAllCurrent extends Error {}

export class SqlAnswerStore implements AnswerStore {
  constructor(private readonly db: Db) {}

  commitIfAllCurrent(rows: ResultRow[], now: number, signal: eventsRepo.NewEvent): Promise<false | SettledOpinions> {
    return retryTransient(() => this.db.kysely.transaction().execute(async (trx) => {
      if ((await jobsRepo.completeJobsFenced(trx, this.db.dialect, rows, now)) !== rows.length) throw new NotAllCurrent()
      const opinions = await this.finish(trx, rows, now)
      await eventsRepo.appendEvents(trx, [signal])
      return opinions
    })).catch((err: unknown) => {
      if (err instanceof NotAllCurrent) return false
      throw err
    })
  }

  commitCurrent(rows: ResultRow[], now: number, signal: (ids: string[]) => eventsRepo.NewEvent, current: (facts: jobsRepo.LeaseState | undefined, row: ResultRow) => boolean): Promise<{ ids: string[]; opinions: SettledOpinions }> {
    return retryTransient(() => this.db.kysely.transaction().execute(async (trx) => {
      const facts = new Map((await jobsRepo.lockLeaseStates(trx, this.db.dialect, rows.map((r) => r.id))).map((f) => [f.id, f]))
      const done = rows.filter((r) => current(facts.get(r.id), r))
      if (done.length === 0) return { ids: [], opinions: [] }
      await jobsRepo.completeJobsFenced(trx, this.db.dialect, done, now)
      const opinions = await this.finish(trx, done, now)
      await eventsRepo.appendEvents(trx, [signal(done.map((r) => r.id))])
      return { ids: done.map((r) => r.id), opinions }
    }))
  }

  /**
   * After results are written: clear ones may become known answers (before their images go), finished jobs
   * need their image no more, and what volunteers had said of them is taken out for judging.
   */
  private async finish(trx: Parameters<typeof imagesRepo.deleteImages>[0], rows: ResultRow[], now: number): Promise<SettledOpinions> {
    const known = rows.flatMap((r) => (r.knownTop1 === undefined ? [] : [{ jobId: r.id, top1: r.knownTop1 }]))
    if (known.length > 0) await knownRepo.captureKnownAnswers(trx, known, now)
    const ids = rows.map((r) => r.id)
    await imagesRepo.deleteImages(trx, ids)
    const opinions = await opinionsRepo.opinionsOf(trx, rows.filter((r) => r.checkOpinions !== false).map((r) => r.id))
    if (opinions.length > 0) await opinionsRepo.deleteOpinionsOfJobs(trx, [...new Set(opinions.map((o) => o.job_id))])
    return opinions.map((o) => ({ job_id: o.job_id, identity: o.identity, top1: Number(o.top1) }))
  }

  recordFailure(fence: Fence, now: number, code: string, message: string, decide: (facts: jobsRepo.LeaseState | undefined) => FailureDecision, signal: eventsRepo.NewEvent): Promise<FailureDecision['outcome']> {
    return retryTransient(() => this.db.kysely.transaction().execute(async (trx) => {
      const [facts] = await jobsRepo.lockLeaseStates(trx, this.db.dialect, [fence.id])
      const d = decide(facts)
      if (d.outcome === 'stale') return d.outcome
      if (d.outcome === 'retry') {
        await jobsRepo.delayLeased(trx, fence, d.availableAt, code, message)
        return d.outcome
      }
      if (d.outcome === 'failed') {
        await jobsRepo.failJob(trx, fence, now, code, message)
        await imagesRepo.deleteImages(trx, [fence.id])
      } else {
        // Dead jobs keep their image: POST /retry may queue them again.
        await jobsRepo.markDead(trx, fence, now, code, `${message} (after ${d.attempts} attempts)`)
      }
      await eventsRepo.appendEvents(trx, [signal])
      return d.outcome
    }))
  }

  release(fence: Fence, now: number): Promise<boolean> {
    return jobsRepo.releaseLeased(this.db.kysely, fence, now)
  }
}
