import type { Db } from '../db/create-db.ts'
import * as eventsRepo from '../db/event.repository.ts'
import type { Clock } from '../jobs/clock.ts'
import type { Logger } from '../jobs/logger.ts'

/** Row kinds the journal writes to `coordinator_events`; peers' ClusterSignals ignore kinds they do not know. */
export const FEED_JOBS = 'feed.jobs'
export const FEED_WORKERS = 'feed.workers'

const IDS_PER_ROW = 500

/**
 * Writes what changed on this coordinator (jobs submitted, leased, released; workers joining and leaving)
 * into the events table every coordinator already shares, so the event stream of any coordinator sees
 * the whole cluster, and its ids (the rows') mean the same everywhere. Changes are batched: at most one
 * insert per `flushMs`, whatever the rate. A row names ids only; readers load the jobs' state.
 */
export class EventJournal {
  /** job id → not before (ms, monotonic): released jobs wait a little, so their new state is committed. */
  private readonly jobs = new Map<string, number>()
  private workers = false
  private timer: NodeJS.Timeout | undefined
  private flushing: Promise<void> | undefined

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: { origin: string; flushMs: number },
  ) {}

  jobsChanged(ids: Iterable<string>, delayMs = 0): void {
    const at = performance.now() + delayMs
    for (const id of ids) this.jobs.set(id, Math.max(this.jobs.get(id) ?? 0, at))
  }

  workersChanged(): void {
    this.workers = true
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.opts.flushMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    await this.flushing
    await this.flush(Infinity)
  }

  /** Writes what is due; one flush at a time. */
  flush(until = performance.now()): Promise<void> {
    if (this.flushing) return this.flushing
    const due = [...this.jobs].filter(([, at]) => at <= until).map(([id]) => id)
    if (due.length === 0 && !this.workers) return Promise.resolve()
    for (const id of due) this.jobs.delete(id)
    const now = this.clock.now()
    const rows: eventsRepo.NewEvent[] = []
    if (this.workers) rows.push({ kind: FEED_WORKERS, origin: this.opts.origin, payload: '{}', created_at: now })
    this.workers = false
    for (let i = 0; i < due.length; i += IDS_PER_ROW) {
      rows.push({ kind: FEED_JOBS, origin: this.opts.origin, payload: JSON.stringify({ jobIds: due.slice(i, i + IDS_PER_ROW) }), created_at: now })
    }
    this.flushing = eventsRepo.appendEvents(this.db.kysely, rows)
      // Streams miss these changes; a job's final state still reaches them through the answer's own row.
      .catch((err: unknown) => this.log.warn({ err, rows: rows.length }, 'could not write event-stream rows'))
      .finally(() => { this.flushing = undefined })
    return this.flushing
  }
}
