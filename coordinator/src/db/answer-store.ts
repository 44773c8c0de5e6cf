import { retryTransient, type Db } from './create-db.ts'
import * as eventsRepo from './event.repository.ts'
import * as imagesRepo from './image.repository.ts'
import * as jobsRepo from './job.repository.ts'

export interface ResultRow {
  id: string
  token: number
  workerId: string
  resultJson: string
}

type Fence = { id: string; token: number; workerId: string }

/** What a worker's failure makes of its job, decided (by the caller's pure rule) on the locked lease. */
export type FailureDecision =
  | { outcome: 'stale' }
  | { outcome: 'retry'; availableAt: number }
  | { outcome: 'failed' }
  | { outcome: 'dead'; attempts: number }

/** What the answer recorder needs of storage; its unit tests can hand it a fake. */
export interface AnswerStore {
  /** Writes every result if every one is from the current holder (one fenced UPDATE); otherwise nothing: false. */
  commitIfAllCurrent(rows: ResultRow[], now: number, signal: eventsRepo.NewEvent): Promise<boolean>
  /** Locks the rows and writes the results `current` accepts; their ids. */
  commitCurrent(rows: ResultRow[], now: number, signal: (ids: string[]) => eventsRepo.NewEvent, current: (facts: jobsRepo.LeaseState | undefined, row: ResultRow) => boolean): Promise<string[]>
  /** Applies what `decide` makes of the locked lease: back-off, final failure (image dropped) or dead (image kept). */
  recordFailure(fence: Fence, now: number, code: string, message: string, decide: (facts: jobsRepo.LeaseState | undefined) => FailureDecision, signal: eventsRepo.NewEvent): Promise<FailureDecision['outcome']>
  /** A job handed back unstarted: queued again, no attempt counted (fenced). */
  release(fence: Fence, now: number): Promise<boolean>
}

/** Rolls back the all-current fast path: some result in the batch was stale. */
class NotAllCurrent extends Error {}

export class SqlAnswerStore implements AnswerStore {
  constructor(private readonly db: Db) {}

  commitIfAllCurrent(rows: ResultRow[], now: number, signal: eventsRepo.NewEvent): Promise<boolean> {
    return retryTransient(() => this.db.kysely.transaction().execute(async (trx) => {
      if ((await jobsRepo.completeJobsFenced(trx, this.db.dialect, rows, now)) !== rows.length) throw new NotAllCurrent()
      // Finished jobs need their image no more, and every coordinator's long-polls want to know.
      await imagesRepo.deleteImages(trx, rows.map((r) => r.id))
      await eventsRepo.appendEvents(trx, [signal])
      return true
    })).catch((err: unknown) => {
      if (err instanceof NotAllCurrent) return false
      throw err
    })
  }

  commitCurrent(rows: ResultRow[], now: number, signal: (ids: string[]) => eventsRepo.NewEvent, current: (facts: jobsRepo.LeaseState | undefined, row: ResultRow) => boolean): Promise<string[]> {
    return retryTransient(() => this.db.kysely.transaction().execute(async (trx) => {
      const facts = new Map((await jobsRepo.lockLeaseStates(trx, this.db.dialect, rows.map((r) => r.id))).map((f) => [f.id, f]))
      const done = rows.filter((r) => current(facts.get(r.id), r))
      if (done.length > 0) {
        const ids = done.map((r) => r.id)
        await jobsRepo.completeJobsFenced(trx, this.db.dialect, done, now)
        await imagesRepo.deleteImages(trx, ids)
        await eventsRepo.appendEvents(trx, [signal(ids)])
      }
      return done.map((r) => r.id)
    }))
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
