import type { JobFailed, JobRelease, JobResult } from '@hivesight/protocol'
import type { Transaction } from 'kysely'
import { retryTransient, type Db } from '../db/create-db.ts'
import * as eventsRepo from '../db/event.repository.ts'
import * as imagesRepo from '../db/image.repository.ts'
import * as jobsRepo from '../db/job.repository.ts'
import type { Database } from '../db/schema.ts'
import type { ModelFiles } from '../model/model-files.ts'
import type { WorkerRegistry } from '../workers/worker-registry.ts'
import type { Clock } from './clock.ts'
import type { ClusterSignals } from './cluster-signals.ts'
import type { DispatchCounters } from './counters.ts'
import type { JobMetrics } from './job-metrics.ts'
import { storedResult } from './job-view.ts'
import { failureOutcome, isCurrentLease, retryDelayMs } from './lease.ts'
import type { Logger } from './logger.ts'

type Answer = JobResult | JobFailed
/** Rolls back the all-current fast path: some answer in the batch was stale. */
class NotAllCurrent extends Error {}
type Buffered = { workerId: string; msg: Answer; submittedAt?: number }
type PendingCompletion = { workerId: string; jobId: string; token: number; resultJson: string; done: (accepted: boolean) => void; fail: (err: unknown) => void }

// Group commit: results that arrive while a transaction commits go together into the next one.
const MAX_COMPLETIONS_PER_COMMIT = 500
// Two batches in flight: one commits while the next is being locked and written.
const MAX_COMMITS_IN_FLIGHT = 2
const MAX_BUFFERED_RESULTS = 100_000

/** What happens around an answer that the recorder does not do itself. */
export interface AnswerEvents {
  /** A worker's slot is free again. */
  slotFreed(): void
  /** Jobs reached a final state here (wake this coordinator's long-polls). */
  finished(jobIds: string[]): void
  /** A job is queued again. */
  requeued(): void
}

/**
 * Writes workers' answers. Results go in group commits: one transaction locks the batch's rows, keeps
 * only answers from the current lease holder with the current token (a pure check), and writes them with
 * one multi-row UPDATE, drops their images and tells the other coordinators, in the same commit. Failures
 * become final, delayed or dead by their kind. While the database is unreachable, answers are kept in
 * memory and applied when it is back.
 */
export class AnswerRecorder {
  private buffered: Buffered[] = []
  private flushing: Promise<void> | undefined
  private completions: PendingCompletion[] = []
  private readonly commits = new Set<Promise<void>>()

  constructor(
    private readonly db: Db,
    private readonly model: ModelFiles,
    private readonly registry: WorkerRegistry,
    private readonly signals: ClusterSignals,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly metrics: JobMetrics,
    private readonly counters: DispatchCounters,
    private readonly events: AnswerEvents,
  ) {}

  /** Waits for the commits in progress and applies what is buffered (shutdown). */
  async settle(): Promise<void> {
    while (this.commits.size > 0) await Promise.all(this.commits)
    await this.flushBuffered()
  }

  get bufferedCount(): number {
    return this.buffered.length
  }

  /** A worker's answer: its slot is free at once; the answer is applied, or kept until it can be. */
  async record(workerId: string, msg: Answer): Promise<void> {
    const held = this.registry.release(workerId, msg.jobId)
    this.events.slotFreed()
    try {
      await this.apply(workerId, msg, held?.submittedAt)
    } catch (err) {
      // The database is unreachable: keep the answer and apply it when it is back. Fencing still holds.
      if (this.buffered.length >= MAX_BUFFERED_RESULTS) throw err
      this.buffered.push({ workerId, msg, submittedAt: held?.submittedAt })
      this.counters.bufferedResults++
      this.log.warn({ err, jobId: msg.jobId, buffered: this.buffered.length }, 'database unreachable: answer buffered')
    }
  }

  /** A draining worker hands back a job it never started: queued again, no attempt counted. */
  async release(workerId: string, msg: JobRelease): Promise<void> {
    this.registry.release(workerId, msg.jobId)
    this.events.slotFreed()
    const now = this.clock.now()
    if (await jobsRepo.releaseLeased(this.db.kysely, { id: msg.jobId, token: msg.leaseToken, workerId }, now)) {
      this.events.requeued()
      await this.signals.publish({ kind: 'jobs.queued' }, now)
    }
  }

  /** Applies buffered answers in arrival order; one flush at a time (a second caller waits for the first). */
  flushBuffered(): Promise<void> {
    this.flushing ??= (async () => {
      try {
        while (this.buffered.length > 0) {
          const next = this.buffered[0]!
          await this.apply(next.workerId, next.msg, next.submittedAt)
          this.buffered.shift()
        }
      } finally {
        this.flushing = undefined
      }
    })()
    return this.flushing
  }

  private apply(workerId: string, msg: Answer, submittedAt?: number): Promise<void> {
    return msg.type === 'job.result' ? this.applyResult(workerId, msg, submittedAt) : this.applyFailed(workerId, msg)
  }

  private async applyResult(workerId: string, msg: JobResult, submittedAt?: number): Promise<void> {
    const resultJson = storedResult(msg.top, this.model.name, msg.timings)
    const accepted = await new Promise<boolean>((done, fail) => {
      this.completions.push({ workerId, jobId: msg.jobId, token: msg.leaseToken, resultJson, done, fail })
      this.commitCompletions()
    })
    if (accepted) {
      this.counters.completed++
      this.registry.countJobDone(workerId)
      this.metrics.finished('succeeded', submittedAt === undefined ? undefined : (this.clock.now() - submittedAt) / 1000)
      this.metrics.workerTimings(msg.timings.decodeMs, msg.timings.inferMs)
    } else {
      this.staleAnswer()
      this.log.warn({ workerId, jobId: msg.jobId, leaseToken: msg.leaseToken }, 'refused a stale result')
    }
  }

  private commitCompletions(): void {
    while (this.commits.size < MAX_COMMITS_IN_FLIGHT && this.completions.length > 0) {
      const batch = this.completions.splice(0, MAX_COMPLETIONS_PER_COMMIT)
      const commit = this.commitBatch(batch)
        .then((accepted) => batch.forEach((c, i) => c.done(accepted[i]!)), (err: unknown) => batch.forEach((c) => c.fail(err)))
        .finally(() => {
          this.commits.delete(commit)
          this.commitCompletions()
        })
      this.commits.add(commit)
    }
  }

  private async commitBatch(batch: PendingCompletion[]): Promise<boolean[]> {
    const now = this.clock.now()
    // A replay inside one batch loses to the first copy.
    const first = new Map<string, PendingCompletion>()
    for (const c of batch) if (!first.has(c.jobId)) first.set(c.jobId, c)
    const candidates = [...first.values()]
    let accepted = await retryTransient(() => this.commitIfAllCurrent(candidates, now))
    if (accepted === undefined) accepted = new Set(await retryTransient(() => this.commitCheckingEach(candidates, now)))
    const ok = batch.map((c) => first.get(c.jobId) === c && accepted.has(c.jobId))
    const finished = candidates.filter((c) => accepted.has(c.jobId)).map((c) => c.jobId)
    if (finished.length > 0) this.events.finished(finished)
    return ok
  }

  /**
   * The common case: every answer is from the current holder. One fenced UPDATE writes them all; if it
   * wrote fewer rows than answers, the transaction is rolled back (undefined) and each is checked.
   */
  private commitIfAllCurrent(candidates: PendingCompletion[], now: number): Promise<Set<string> | undefined> {
    return this.db.kysely.transaction().execute(async (trx) => {
      const rows = candidates.map((c) => ({ id: c.jobId, token: c.token, workerId: c.workerId, resultJson: c.resultJson }))
      if ((await jobsRepo.completeJobsFenced(trx, this.db.dialect, rows, now)) !== rows.length) throw new NotAllCurrent()
      await this.finishInTransaction(trx, rows.map((r) => r.id), now)
      return new Set(rows.map((r) => r.id))
    }).catch((err: unknown) => {
      if (err instanceof NotAllCurrent) return undefined
      throw err
    })
  }

  /** Some answers are stale: lock the rows and keep only those from the current holder (a pure check). */
  private commitCheckingEach(candidates: PendingCompletion[], now: number): Promise<string[]> {
    return this.db.kysely.transaction().execute(async (trx) => {
      const facts = new Map((await jobsRepo.lockLeaseStates(trx, this.db.dialect, candidates.map((c) => c.jobId))).map((f) => [f.id, f]))
      const done = candidates.filter((c) => isCurrentLease(facts.get(c.jobId), { token: c.token, workerId: c.workerId }))
      if (done.length > 0) {
        await jobsRepo.completeJobs(trx, this.db.dialect, done.map((c) => ({ id: c.jobId, resultJson: c.resultJson })), now)
        await this.finishInTransaction(trx, done.map((c) => c.jobId), now)
      }
      return done.map((c) => c.jobId)
    })
  }

  /** Finished jobs need their image no more, and every coordinator's long-polls want to know. */
  private async finishInTransaction(trx: Transaction<Database>, ids: string[], now: number): Promise<void> {
    await imagesRepo.deleteImages(trx, ids)
    await eventsRepo.appendEvents(trx, [this.signals.row({ kind: 'jobs.finished', jobIds: ids }, now)])
  }

  private async applyFailed(workerId: string, msg: JobFailed): Promise<void> {
    const now = this.clock.now()
    const fence = { id: msg.jobId, token: msg.leaseToken, workerId }
    const outcome = await retryTransient(() => this.db.kysely.transaction().execute(async (trx) => {
      const [facts] = await jobsRepo.lockLeaseStates(trx, this.db.dialect, [msg.jobId])
      if (!facts || !isCurrentLease(facts, { token: msg.leaseToken, workerId })) return 'stale' as const
      const decided = failureOutcome(facts, msg.retryable)
      if (decided === 'retry') {
        await jobsRepo.delayLeased(trx, fence, now + retryDelayMs(Number(facts.attempts)), msg.code, msg.message)
        return decided
      }
      if (decided === 'failed') {
        await jobsRepo.failJob(trx, fence, now, msg.code, msg.message)
        await imagesRepo.deleteImages(trx, [msg.jobId])
      } else {
        // Dead jobs keep their image: POST /retry may queue them again.
        await jobsRepo.markDead(trx, fence, now, msg.code, `${msg.message} (after ${facts.attempts} attempts)`)
      }
      await eventsRepo.appendEvents(trx, [this.signals.row({ kind: 'jobs.finished', jobIds: [msg.jobId] }, now)])
      return decided
    }))
    this.log.warn({ workerId, jobId: msg.jobId, code: msg.code, outcome }, 'a worker could not classify an image')
    if (outcome === 'stale') return this.staleAnswer()
    if (outcome === 'retry') return
    if (outcome === 'dead') this.counters.deadJobs++
    else this.counters.failed++
    this.metrics.finished(outcome)
    this.events.finished([msg.jobId])
  }

  private staleAnswer(): void {
    this.counters.staleResults++
    this.metrics.staleAnswer()
  }
}
