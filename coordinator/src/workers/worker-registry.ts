import type { FromCoordinator, WorkerHello } from '@hivesight/protocol'

/** How the services reach one connected worker; the socket layer implements it. */
export interface WorkerChannel {
  /** A binary job.assign frame; false when the socket is closing. */
  sendFrame(frame: Uint8Array): boolean
  sendMessage(msg: FromCoordinator): boolean
  close(code: number, reason: string): void
}

export interface HeldJob {
  token: number
  leaseExpiresAt: number
  submittedAt: number
  /** Volunteers answered this job before (their answers are read when its result comes). */
  hasOpinions?: boolean
  /** The model version it was assigned with (its answer must name the same). */
  model?: string
  /** The version it also runs on for an agreement figure (a shadow run), if any. */
  shadow?: string
}

/** Who a worker is, as far as verification cares (see trust/verification.ts). */
export interface WorkerTrust {
  trusted: boolean
  /** A runtime's session name, a join link's name, or `net:<network>` for a tab without a link. */
  identity: string
  /** Its /24 or /48; null when unknown. */
  network: string | null
}

export interface LiveWorker {
  id: string
  hello: WorkerHello
  trust: WorkerTrust
  slots: number
  /** Jobs leased to this worker and not answered yet (change it through the registry). */
  readonly inFlight: ReadonlyMap<string, HeldJob>
  /** A draining worker gets nothing new. */
  draining: boolean
  channel: WorkerChannel
  /** Jobs finished since the last sweep wrote the count to the database. */
  jobsDoneUnsaved: number
  /** Model versions the page holds loaded (its last worker.models); undefined until it says (dispatch then assumes any). */
  models: ReadonlySet<string> | undefined
}

/** Slots promised to jobs being committed with their upload (counted as taken until used or given back). */
type Entry = LiveWorker & { inFlight: Map<string, HeldJob>; reserved: number }

/**
 * Workers connected to this coordinator process and the jobs each holds right now. Workers with a free
 * slot are kept in a set of their own, so finding free slots costs what is free, not every connection.
 */
export class WorkerRegistry {
  private readonly workers = new Map<string, Entry>()
  private readonly withFreeSlots = new Set<Entry>()
  private held = 0
  private untrusted = 0

  add(w: Omit<LiveWorker, 'inFlight' | 'jobsDoneUnsaved' | 'models'>): LiveWorker {
    const entry: Entry = { ...w, inFlight: new Map(), jobsDoneUnsaved: 0, reserved: 0, models: undefined }
    this.workers.set(w.id, entry)
    if (!w.trust.trusted) this.untrusted++
    this.refresh(entry)
    return entry
  }
  remove(id: string): LiveWorker | undefined {
    const w = this.workers.get(id)
    if (!w) return undefined
    this.workers.delete(id)
    if (!w.trust.trusted) this.untrusted--
    this.withFreeSlots.delete(w)
    this.held -= w.inFlight.size
    return w
  }
  get(id: string): LiveWorker | undefined {
    return this.workers.get(id)
  }
  all(): IterableIterator<LiveWorker> {
    return this.workers.values()
  }
  ids(): string[] {
    return [...this.workers.keys()]
  }
  get size(): number {
    return this.workers.size
  }
  /** Volunteer tabs connected here (none: the volunteer pass of a dispatch costs nothing). */
  get volunteers(): number {
    return this.untrusted
  }
  /** Jobs held by all workers of this coordinator. */
  get inFlight(): number {
    return this.held
  }

  hold(workerId: string, jobId: string, job: HeldJob): boolean {
    const w = this.workers.get(workerId)
    if (!w || w.inFlight.has(jobId)) return false
    w.inFlight.set(jobId, job)
    this.held++
    this.refresh(w)
    return true
  }
  /** The job is no longer on that worker (answered, canceled, taken back); what it held, if it did. */
  release(workerId: string, jobId: string): HeldJob | undefined {
    const w = this.workers.get(workerId)
    const job = w?.inFlight.get(jobId)
    if (!w || !job) return undefined
    w.inFlight.delete(jobId)
    this.held--
    this.refresh(w)
    return job
  }
  /** Takes one free slot of that worker for a job not committed yet; false when it has none. */
  reserve(workerId: string): boolean {
    const w = this.workers.get(workerId)
    if (!w || !this.withFreeSlots.has(w)) return false
    w.reserved++
    this.refresh(w)
    return true
  }
  unreserve(workerId: string): void {
    const w = this.workers.get(workerId)
    if (!w || w.reserved === 0) return
    w.reserved--
    this.refresh(w)
  }
  setDraining(workerId: string): LiveWorker | undefined {
    const w = this.workers.get(workerId)
    if (w) {
      w.draining = true
      this.refresh(w)
    }
    return w
  }
  /** Free slots of trusted workers, or of volunteers (each kind gets jobs its own way), with what each holds loaded. */
  freeSlots(trusted = true): { workerId: string; free: number; warm: ReadonlySet<string> | undefined }[] {
    const out: { workerId: string; free: number; warm: ReadonlySet<string> | undefined }[] = []
    for (const w of this.withFreeSlots) if (w.trust.trusted === trusted) out.push({ workerId: w.id, free: w.slots - w.inFlight.size - w.reserved, warm: w.models })
    return out
  }
  /** The page's worker.models: what it holds loaded now. */
  setModels(workerId: string, held: string[]): void {
    const w = this.workers.get(workerId)
    if (w) w.models = new Set(held)
  }
  /** Workers here holding this version loaded (for the Models screen and for label moves). */
  holding(versionId: string): LiveWorker[] {
    return [...this.workers.values()].filter((w) => w.models?.has(versionId) === true)
  }
  /** Live workers of one identity (to close them when it is quarantined, or its link or credential revoked). */
  ofIdentity(identity: string): LiveWorker[] {
    return [...this.workers.values()].filter((w) => w.trust.identity === identity)
  }
  /** Per worker, jobs done since the last call (the sweep writes them). */
  takeJobsDone(): Map<string, number> {
    const out = new Map<string, number>()
    for (const w of this.workers.values()) {
      if (w.jobsDoneUnsaved > 0) out.set(w.id, w.jobsDoneUnsaved)
      w.jobsDoneUnsaved = 0
    }
    return out
  }
  countJobDone(workerId: string): void {
    const w = this.workers.get(workerId)
    if (w) w.jobsDoneUnsaved++
  }

  private refresh(w: Entry): void {
    if (!w.draining && w.inFlight.size + w.reserved < w.slots) this.withFreeSlots.add(w)
    else this.withFreeSlots.delete(w)
  }
}
