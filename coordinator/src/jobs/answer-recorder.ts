import type { JobFailed, JobResult, JobResultView } from '@hivesight/protocol'
import { retryTransient, type Db } from '../db/create-db.ts'
import * as jobsRepo from '../db/job.repository.ts'
import * as workersRepo from '../db/worker.repository.ts'
import type { ModelFiles } from '../model/model-files.ts'
import type { Clock } from './clock.ts'
import type { DispatchCounters, Logger } from './dispatch-service.ts'
import type { JobMetrics } from './job-metrics.ts'
import { retryDelayMs } from './lease.ts'

type Buffered = { workerId: string; msg: JobResult | JobFailed; since: number }
type PendingCompletion = { workerId: string; jobId: string; token: number; resultJson: string; done: (accepted: boolean) => void; fail: (err: unknown) => void }
// Group commit: results that arrive while one transaction commits go together into the next one.
const MAX_COMPLETIONS_PER_COMMIT = 500
const MAX_BUFFERED_RESULTS = 100_000

/** What the dispatcher does when an answer is settled. */
export interface AnswerEvents {
  /** The job reached a final state (drop its image unless it may run again). */
  finished(jobId: string, dropImage: boolean): void
  /** A retryable failure put the job back in the queue. */
  requeued(): void
}

/**
 * Writes workers' answers: results in group commits (one transaction, one fsync on SQLite, for every result
 * waiting), failures as final/retry/dead by their kind, every UPDATE fenced by the lease token. While the
 * database is unreachable, answers are kept in memory and applied when it is back.
 */
export class AnswerRecorder {
  private buffered: Buffered[] = []
  private completions: PendingCompletion[] = []
  private committing: Promise<void> | undefined

  constructor(
    private readonly db: Db,
    private readonly model: ModelFiles,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly metrics: JobMetrics,
    private readonly counters: DispatchCounters,
    private readonly events: AnswerEvents,
  ) {}

  /** Waits for the commit in progress and applies what is buffered (shutdown). */
  async settle(): Promise<void> {
    await this.committing
    await this.flushBuffered()
  }

  /** Applies an answer, or keeps it until the database is back. */
  async record(workerId: string, msg: JobResult | JobFailed, submittedAt: number | undefined): Promise<void> {
    try {
      await this.applyAnswer(workerId, msg, submittedAt)
    } catch (err) {
      // The database is unreachable: keep the answer and apply it when it is back. Fencing still holds.
      if (this.buffered.length >= MAX_BUFFERED_RESULTS) throw err
      this.buffered.push({ workerId, msg, since: this.clock.now() })
      this.counters.bufferedResults++
      this.log.warn({ err, jobId: msg.jobId, buffered: this.buffered.length }, 'database unreachable: answer buffered')
    }
  }

  private applyAnswer(workerId: string, msg: JobResult | JobFailed, submittedAt?: number): Promise<void> {
    return msg.type === 'job.result' ? this.applyResult(workerId, msg, submittedAt) : this.applyFailed(workerId, msg)
  }

  private async applyResult(workerId: string, msg: JobResult, submittedAt?: number): Promise<void> {
    const now = this.clock.now()
    const result: JobResultView = {
      predictions: this.model.toPredictions(msg.top),
      model: this.model.name,
      decodeMs: Math.round(msg.timings.decodeMs * 10) / 10,
      inferMs: Math.round(msg.timings.inferMs * 10) / 10,
    }
    const accepted = await new Promise<boolean>((done, fail) => {
      this.completions.push({ workerId, jobId: msg.jobId, token: msg.leaseToken, resultJson: JSON.stringify(result), done, fail })
      this.commitCompletions()
    })
    if (accepted) {
      this.counters.completed++
      this.metrics.finished('succeeded', submittedAt === undefined ? undefined : (now - submittedAt) / 1000)
      this.metrics.workerTimings(msg.timings.decodeMs, msg.timings.inferMs)
      this.events.finished(msg.jobId, true)
    } else {
      this.staleAnswer()
      this.log.warn({ workerId, jobId: msg.jobId, leaseToken: msg.leaseToken }, 'refused a stale result')
    }
  }

  /**
   * One transaction (one fsync on SQLite) for every result waiting: at low load that is one result, no
   * added latency; under load results share commits. Each UPDATE is still fenced by its token.
   */
  private commitCompletions(): void {
    if (this.committing || this.completions.length === 0) return
    const batch = this.completions.splice(0, MAX_COMPLETIONS_PER_COMMIT)
    const now = this.clock.now()
    this.committing = retryTransient(() => this.db.kysely.transaction().execute(async (trx) => {
      const accepted: boolean[] = []
      const done = new Map<string, number>()
      for (const c of batch) {
        const ok = await jobsRepo.completeJob(trx, { id: c.jobId, token: c.token, workerId: c.workerId }, now, c.resultJson)
        accepted.push(ok)
        if (ok) done.set(c.workerId, (done.get(c.workerId) ?? 0) + 1)
      }
      for (const [workerId, n] of done) await workersRepo.addJobsDone(trx, workerId, n, now)
      return accepted
    }))
      .then((accepted) => batch.forEach((c, i) => c.done(accepted[i]!)), (err: unknown) => batch.forEach((c) => c.fail(err)))
      .finally(() => {
        this.committing = undefined
        this.commitCompletions()
      })
  }

  async flushBuffered(): Promise<void> {
    while (this.buffered.length > 0) {
      const next = this.buffered[0]!
      await this.applyAnswer(next.workerId, next.msg)
      this.buffered.shift()
    }
  }

  private async applyFailed(workerId: string, msg: JobFailed): Promise<void> {
    const now = this.clock.now()
    const fence = { id: msg.jobId, token: msg.leaseToken, workerId }
    const row = await jobsRepo.findJob(this.db.kysely, msg.jobId)
    if (!row || row.lease_token !== msg.leaseToken || row.status !== 'running') {
      this.staleAnswer()
      return
    }
    const outcome = !msg.retryable ? 'failed' : row.attempts < row.max_attempts ? 'retry' : 'dead'
    const accepted = await retryTransient(() => {
      if (outcome === 'failed') return jobsRepo.failJob(this.db.kysely, fence, now, msg.code, msg.message)
      if (outcome === 'retry') return jobsRepo.requeueLeased(this.db.kysely, fence, now + retryDelayMs(row.attempts), msg.code, msg.message)
      return jobsRepo.markDead(this.db.kysely, fence, now, msg.code, `${msg.message} (after ${row.attempts} attempts)`)
    })
    this.log.warn({ workerId, jobId: msg.jobId, code: msg.code, outcome, accepted }, 'a worker could not classify an image')
    if (!accepted) this.staleAnswer()
    else if (outcome === 'retry') this.events.requeued()
    else {
      if (outcome === 'dead') this.counters.deadJobs++
      else this.counters.failed++
      this.metrics.finished(outcome)
      this.events.finished(msg.jobId, outcome === 'failed')
    }
  }

  private staleAnswer(): void {
    this.counters.staleResults++
    this.metrics.staleAnswer()
  }
}
