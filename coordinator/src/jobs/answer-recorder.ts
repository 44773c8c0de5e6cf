import type { ClassScore, JobFailed, JobRelease, JobResult, JobTimings } from '@hivesight/protocol'
import type { AnswerStore, FailureDecision, SettledOpinions } from '../db/answer-store.ts'
import type { ResolvedVersion } from '../models/model-lookup.ts'
import { usableAsKnownAnswer } from '../trust/spot-checks.ts'
import type { HeldJob, LiveWorker, WorkerRegistry } from '../workers/worker-registry.ts'
import type { Clock } from './clock.ts'
import type { ClusterSignals } from './cluster-signals.ts'
import type { DispatchCounters } from './counters.ts'
import type { JobMetrics } from './job-metrics.ts'
import { storedResult } from './job-view.ts'
import { failureOutcome, isCurrentLease, retryDelayMs } from './lease.ts'
import type { Logger } from './logger.ts'

type Answer = JobResult | JobFailed
type Buffered = { workerId: string; msg: Answer; held?: HeldJob }
type PendingCompletion = {
  workerId: string; jobId: string; token: number; resultJson: string; top: ClassScore[]; knownTop1?: number; checkOpinions: boolean
  done: (accepted: boolean) => void; fail: (err: unknown) => void
}

/** How volunteers' answers are kept apart (trust/volunteer-trust.ts); absent, every worker is believed. */
export interface TrustHooks {
  /** A volunteer's answer: judged by the quorum rules instead of written. */
  volunteerAnswer(w: LiveWorker, msg: Answer): Promise<void>
  /** Trusted results finished jobs volunteers had answered: credit or quarantine them. */
  settled(jobs: { jobId: string; top1: number; margin: number; opinions: { identity: string; top1: number }[] }[]): Promise<void>
  /** Whether clear trusted results should be kept as known answers now; told how many were offered. */
  wantsKnownAnswers(): boolean
  knownAnswersOffered(n: number): void
}

// Group commit: results that arrive while a transaction commits go together into the next one.
export const MAX_COMPLETIONS_PER_COMMIT = 500
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
  /** A worker's result was accepted (its figures: images/s, inference and preparation times). */
  resultAccepted(workerId: string, timings: JobTimings, model: string, shadow?: { version: string; top1: number; top1Here: number }): void
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
    private readonly store: AnswerStore,
    private readonly models: { cached(id: string): ResolvedVersion | undefined },
    private readonly registry: WorkerRegistry,
    private readonly signals: ClusterSignals,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly metrics: JobMetrics,
    private readonly counters: DispatchCounters,
    private readonly events: AnswerEvents,
    private readonly trust?: TrustHooks,
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
  async record(workerId: string, answer: Answer): Promise<void> {
    const w = this.registry.get(workerId)
    const msg = answer.type === 'job.result' ? checkedResult(answer, w?.inFlight.get(answer.jobId), this.models) : answer
    if (w && !w.trust.trusted && this.trust) return this.trust.volunteerAnswer(w, msg)
    const held = this.registry.release(workerId, msg.jobId)
    this.events.slotFreed()
    try {
      await this.apply(workerId, msg, held)
    } catch (err) {
      // The database is unreachable: keep the answer and apply it when it is back. Fencing still holds.
      if (this.buffered.length >= MAX_BUFFERED_RESULTS) throw err
      this.buffered.push({ workerId, msg, held })
      this.counters.bufferedResults++
      this.log.warn({ err, jobId: msg.jobId, buffered: this.buffered.length }, 'database unreachable: answer buffered')
    }
  }

  /** A draining worker hands back a job it never started: queued again, no attempt counted. */
  async release(workerId: string, msg: JobRelease): Promise<void> {
    this.registry.release(workerId, msg.jobId)
    this.events.slotFreed()
    const now = this.clock.now()
    if (await this.store.release({ id: msg.jobId, token: msg.leaseToken, workerId }, now)) {
      this.events.requeued()
      await this.signals.publish({ kind: 'jobs.queued' }, now)
    }
  }

  /** Applies buffered answers in arrival order; one flush at a time (a second caller waits for the first). */
  flushBuffered(): Promise<void> {
    // Reset in .finally, which always runs later: a reset inside the async body ran synchronously when
    // nothing was buffered, before `??=` stored the promise, so the first empty flush stayed "in progress"
    // for ever and answers kept through an outage waited for their leases to expire (found by fault F6).
    this.flushing ??= this.applyBuffered().finally(() => {
      this.flushing = undefined
    })
    return this.flushing
  }

  private async applyBuffered(): Promise<void> {
    while (this.buffered.length > 0) {
      const next = this.buffered[0]!
      await this.apply(next.workerId, next.msg, next.held)
      this.buffered.shift()
    }
  }

  private apply(workerId: string, msg: Answer, held?: HeldJob): Promise<void> {
    return msg.type === 'job.result' ? this.applyResult(workerId, msg, held) : this.applyFailed(workerId, msg)
  }

  /** `held`: what this coordinator knew of the lease (unknown after a take-back: then volunteers' answers are read). */
  private async applyResult(workerId: string, msg: JobResult, held?: HeldJob): Promise<void> {
    const submittedAt = held?.submittedAt
    const resultJson = storedResult(msg.top, msg.model, msg.timings)
    const accepted = await new Promise<boolean>((done, fail) => {
      const knownTop1 = this.trust?.wantsKnownAnswers() && usableAsKnownAnswer(msg.top) ? msg.top[0]!.index : undefined
      this.completions.push({ workerId, jobId: msg.jobId, token: msg.leaseToken, resultJson, top: msg.top, knownTop1, checkOpinions: held?.hasOpinions ?? true, done, fail })
      this.commitCompletions()
    })
    if (accepted) {
      this.counters.completed++
      this.registry.countJobDone(workerId)
      this.events.resultAccepted(workerId, msg.timings, msg.model, held?.shadow && msg.shadowTop1 !== undefined ? { version: held.shadow, top1: msg.shadowTop1, top1Here: msg.top[0]!.index } : undefined)
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

  /**
   * The common case: every answer is from the current holder, and one fenced UPDATE writes them all. If it
   * would write fewer rows than answers, nothing is written and each is checked under lock instead.
   */
  private async commitBatch(batch: PendingCompletion[]): Promise<boolean[]> {
    const now = this.clock.now()
    // A replay inside one batch loses to the first copy.
    const first = new Map<string, PendingCompletion>()
    for (const c of batch) if (!first.has(c.jobId)) first.set(c.jobId, c)
    const rows = [...first.values()].map((c) => ({ id: c.jobId, token: c.token, workerId: c.workerId, resultJson: c.resultJson, knownTop1: c.knownTop1, checkOpinions: c.checkOpinions }))
    const signal = (ids: string[]) => this.signals.row({ kind: 'jobs.finished', jobIds: ids }, now)
    const all = await this.store.commitIfAllCurrent(rows, now, signal(rows.map((r) => r.id)))
    const { ids, opinions } = all !== false
      ? { ids: rows.map((r) => r.id), opinions: all }
      : await this.store.commitCurrent(rows, now, signal, (facts, r) => isCurrentLease(facts, { token: r.token, workerId: r.workerId }))
    const accepted = new Set(ids)
    if (accepted.size > 0) this.events.finished([...accepted])
    this.afterTrustedCommit(first, rows.filter((r) => accepted.has(r.id)), opinions)
    return batch.map((c) => first.get(c.jobId) === c && accepted.has(c.jobId))
  }

  /** Known answers offered, and volunteers' answers to these jobs judged against the trusted ones. */
  private afterTrustedCommit(byJob: Map<string, PendingCompletion>, written: { id: string; knownTop1?: number }[], opinions: SettledOpinions): void {
    if (!this.trust) return
    const offered = written.filter((r) => r.knownTop1 !== undefined).length
    if (offered > 0) this.trust.knownAnswersOffered(offered)
    if (opinions.length === 0) return
    const settled = [...new Set(opinions.map((o) => o.job_id))].map((jobId) => {
      const top = byJob.get(jobId)!.top
      return { jobId, top1: top[0]!.index, margin: top[0]!.score - (top[1]?.score ?? 0), opinions: opinions.filter((o) => o.job_id === jobId) }
    })
    void this.trust.settled(settled).catch((err: unknown) => this.log.error({ err }, 'could not judge volunteers against trusted results'))
  }

  private async applyFailed(workerId: string, msg: JobFailed): Promise<void> {
    const now = this.clock.now()
    const fence = { id: msg.jobId, token: msg.leaseToken, workerId }
    // Pure rules on the locked lease: is it the holder's, and what does this failure make of the job.
    const decide = (facts: Parameters<typeof isCurrentLease>[0]): FailureDecision => {
      if (!facts || !isCurrentLease(facts, { token: msg.leaseToken, workerId })) return { outcome: 'stale' }
      const outcome = failureOutcome(facts, msg.retryable)
      if (outcome === 'retry') return { outcome, availableAt: now + retryDelayMs(Number(facts.attempts)) }
      return outcome === 'dead' ? { outcome, attempts: Number(facts.attempts) } : { outcome }
    }
    const outcome = await this.store.recordFailure(fence, now, msg.code, msg.message, decide, this.signals.row({ kind: 'jobs.finished', jobIds: [msg.jobId] }, now))
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

/**
 * A result that names another version than the job was assigned with, or an output index its version does
 * not have, is not an answer: it becomes a retryable failure (another page runs the job again).
 */
export function checkedResult(msg: JobResult, held: HeldJob | undefined, models: { cached(id: string): ResolvedVersion | undefined }): Answer {
  const fail = (message: string): JobFailed => ({ type: 'job.failed', jobId: msg.jobId, leaseToken: msg.leaseToken, code: 'INFERENCE_FAILED', message, retryable: true })
  if (held?.model && held.model !== msg.model) return fail(`answered with model ${msg.model.slice(0, 12)}, assigned ${held.model.slice(0, 12)}`)
  const v = models.cached(msg.model)
  if (!v) return fail(`answered with a model version this coordinator does not know (${msg.model.slice(0, 12)})`)
  const { labelOffset, outputs } = v.descriptor
  const out = msg.top.find((c) => c.index < labelOffset || c.index >= outputs)
  return out ? fail(`output index ${out.index} is outside ${v.name} v${v.version}'s classes (${labelOffset}..${outputs - 1})`) : msg
}
