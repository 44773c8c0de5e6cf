import type { JobFailed, JobResult, JobTimings } from '@hivesight/protocol'
import type { OpinionRow } from '../db/opinion.repository.ts'
import type { OpinionDecision, VolunteerAnswerStore } from '../db/volunteer-answer-store.ts'
import type { Clock } from '../jobs/clock.ts'
import type { ClusterSignals } from '../jobs/cluster-signals.ts'
import { storedResult } from '../jobs/job-view.ts'
import type { Logger } from '../jobs/logger.ts'
import type { LiveWorker, WorkerRegistry } from '../workers/worker-registry.ts'
import type { Quarantine } from './quarantine.ts'
import type { SpotCheckDesk } from './spot-check-desk.ts'
import { quarantines } from './spot-checks.ts'
import { judge, type Opinion, type VolunteerPolicy } from './verification.ts'
import type { VolunteerLedger } from './volunteer-ledger.ts'

/** What happens around a volunteer's answer that this service does not do itself. */
export interface VolunteerAnswerEvents {
  slotFreed(): void
  finished(jobIds: string[]): void
  requeued(): void
  /** A volunteer's answer counted (its speed is measured like any worker's; honesty is kept apart). */
  resultAccepted(workerId: string, timings: JobTimings, model: string): void
}

const asOpinion = (row: Pick<OpinionRow, 'identity' | 'network' | 'top1'>): Opinion => ({ identity: row.identity, network: row.network, trusted: false, top1: Number(row.top1) })

/**
 * Volunteers' answers. A spot check's answer counts for or against the volunteer and nothing else. A job's
 * answer is kept with the answers before it until the quorum rule (trust/verification.ts) makes one final;
 * a failure report never ends a job. A trusted worker's answer on a job volunteers answered settles it
 * (`settledByTrusted`), and whoever it clearly contradicts is quarantined.
 */
export class VolunteerAnswers {
  constructor(
    private readonly store: VolunteerAnswerStore,
    private readonly registry: WorkerRegistry,
    private readonly desk: SpotCheckDesk,
    private readonly ledger: VolunteerLedger,
    private readonly quarantine: Quarantine,
    private readonly signals: ClusterSignals,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: { policy: VolunteerPolicy },
    private readonly events: VolunteerAnswerEvents,
  ) {}

  async record(w: LiveWorker, msg: JobResult | JobFailed): Promise<void> {
    this.registry.release(w.id, msg.jobId)
    this.events.slotFreed()
    const now = this.clock.now()
    const check = this.desk.take(msg.jobId, w.id)
    if (check) {
      // A failure report on a check proves nothing (a tab may run out of memory); only answers are judged.
      if (msg.type !== 'job.result') return
      const given = msg.top[0]!.index
      const failed = quarantines({ kind: 'check', expected: check.expected, given })
      this.ledger.checked(w.trust.identity, !failed, now)
      if (failed) await this.quarantine.quarantine(w.trust.identity, `gave class ${given} for a known answer of class ${check.expected}`, now)
      return
    }
    const fence = { id: msg.jobId, token: msg.leaseToken, workerId: w.id }
    if (msg.type === 'job.failed') {
      if (await this.store.applyFailure(fence, now, this.signals.row({ kind: 'jobs.queued' }, now))) this.events.requeued()
      return
    }
    const mine: OpinionRow = {
      job_id: msg.jobId, identity: w.trust.identity, network: w.trust.network, top1: msg.top[0]!.index,
      result_json: storedResult(msg.top, msg.model, msg.timings), created_at: now,
    }
    const decide = (earlier: OpinionRow[]): OpinionDecision => {
      const rows = [...earlier.filter((o) => o.identity !== mine.identity), mine]
      const verdict = judge(rows.map(asOpinion), this.opts.policy)
      if (verdict.kind !== 'final') return { kind: 'wait', needsTrusted: verdict.kind === 'settle' }
      const accepted = rows.find((r) => r.identity === verdict.accepted.identity)!
      return { kind: 'final', accepted, agreed: verdict.agreed.map((o) => o.identity) }
    }
    const outcome = await this.store.applyOpinion(fence, mine, decide, {
      finished: this.signals.row({ kind: 'jobs.finished', jobIds: [msg.jobId] }, now),
      queued: this.signals.row({ kind: 'jobs.queued' }, now),
    })
    if (outcome.outcome === 'stale') return this.log.warn({ workerId: w.id, jobId: msg.jobId }, 'refused a stale answer from a volunteer')
    this.ledger.answered(w.trust.identity, now)
    this.registry.countJobDone(w.id)
    this.events.resultAccepted(w.id, msg.timings, msg.model)
    if (outcome.outcome === 'final') {
      this.ledger.confirmed([outcome.accepted, ...outcome.agreed].filter((id, i, all) => all.indexOf(id) === i), now)
      this.events.finished([msg.jobId])
    } else this.events.requeued()
  }

  /**
   * A trusted worker answered jobs volunteers had answered: those who agreed are credited, those it clearly
   * contradicted (its top-1 leading by the known-answer margin) are quarantined.
   */
  async settledByTrusted(settled: { jobId: string; top1: number; margin: number; opinions: Pick<OpinionRow, 'identity' | 'top1'>[] }[]): Promise<void> {
    const now = this.clock.now()
    for (const s of settled) {
      for (const o of s.opinions) {
        if (Number(o.top1) === s.top1) {
          this.ledger.confirmed([o.identity], now)
          continue
        }
        this.ledger.contradicted(o.identity, now)
        if (quarantines({ kind: 'contradicted', trustedMargin: s.margin })) {
          await this.quarantine.quarantine(o.identity, `a trusted worker gave class ${s.top1} where it gave ${o.top1} (job ${s.jobId})`, now)
            .catch((err: unknown) => this.log.error({ err, identity: o.identity }, 'could not quarantine a contradicted volunteer'))
        }
      }
    }
  }
}
