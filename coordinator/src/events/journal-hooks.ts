import { JobService, type SubmitOutcome, type SubmitRequest } from '../jobs/job-service.ts'
import type { JobView } from '@hivesight/protocol'
import { WorkerRegistry, type HeldJob, type LiveWorker } from '../workers/worker-registry.ts'
import type { EventJournal } from './event-journal.ts'

// Where the journal learns of changes without the lifecycle code knowing about streams: the registry
// sees every lease and release and every worker come and go; the job service sees submits and retries.
// Final states need no hook: the answer recorder, lease recovery and cancel write `jobs.finished` or
// `job.canceled` rows in their own transactions, which the event hub reads too.

// A release (answer, requeue) is journaled after its state change has usually committed.
const RELEASE_DELAY_MS = 300

export class ObservedWorkerRegistry extends WorkerRegistry {
  constructor(private readonly journal: EventJournal) {
    super()
  }

  override add(w: Omit<LiveWorker, 'inFlight' | 'jobsDoneUnsaved'>): LiveWorker {
    this.journal.workersChanged()
    return super.add(w)
  }

  override remove(id: string): LiveWorker | undefined {
    const w = super.remove(id)
    if (w) {
      this.journal.workersChanged()
      this.journal.jobsChanged(w.inFlight.keys(), RELEASE_DELAY_MS)
    }
    return w
  }

  override hold(workerId: string, jobId: string, job: HeldJob): boolean {
    const held = super.hold(workerId, jobId, job)
    if (held) this.journal.jobsChanged([jobId])
    return held
  }

  override release(workerId: string, jobId: string): HeldJob | undefined {
    const job = super.release(workerId, jobId)
    if (job) this.journal.jobsChanged([jobId], RELEASE_DELAY_MS)
    return job
  }
}

export class JournaledJobService extends JobService {
  private journal: EventJournal | undefined

  /** Set once, right after construction (the constructor's parameters stay JobService's). */
  journalTo(journal: EventJournal): this {
    this.journal = journal
    return this
  }

  override async submit(req: SubmitRequest): Promise<SubmitOutcome> {
    const out = await super.submit(req)
    if (!out.replayed) this.journal?.jobsChanged(out.response.jobs.map((j) => j.id))
    return out
  }

  override async retry(id: string, scope: Parameters<JobService['retry']>[1]): Promise<JobView> {
    const view = await super.retry(id, scope)
    this.journal?.jobsChanged([id])
    return view
  }
}
