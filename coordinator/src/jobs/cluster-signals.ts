import type { Db } from '../db/create-db.ts'
import * as eventsRepo from '../db/event.repository.ts'
import type { Logger } from './logger.ts'
import { EventCursor } from './event-cursor.ts'

/** What one coordinator tells the others through the database they share. */
export type Signal =
  | { kind: 'jobs.queued' }
  | { kind: 'job.canceled'; jobId: string; workerId: string; token: number }
  | { kind: 'jobs.finished'; jobIds: string[] }
  | { kind: 'identity.barred'; identity: string; reason: string }
  | { kind: 'models.changed'; versionId: string }

export interface SignalHandlers {
  /** New or requeued work: wake idle workers. */
  queued(): void
  /** A job was canceled: drop it if one of our workers holds it. */
  canceled(jobId: string, workerId: string, token: number): void
  /** Jobs reached a final state: wake long-polls. */
  finished(jobIds: string[]): void
  /** A volunteer identity was quarantined or its join link revoked: close its sessions here. */
  barred?(identity: string, reason: string): void
  /** A model version was added, settled or removed, or a label moved: read the repository again. */
  modelsChanged?(versionId: string): void
}

export type SignalRow = eventsRepo.NewEvent

const READ_LIMIT = 1_000
const MAX_AWAITED = 500

/** A signal as the row every coordinator reads (also written by the operator's CLI, origin `keys-cli`). */
export function signalRow(signal: Signal, origin: string, now: number): SignalRow {
  const { kind, ...payload } = signal
  return { kind, origin, payload: JSON.stringify(payload), created_at: now }
}

/**
 * Signals between coordinators through a small events table that each one polls (every `pollMs`), so a
 * cluster needs nothing but its database. A coordinator acts on its own news directly and skips its rows.
 */
export class ClusterSignals {
  private cursor: EventCursor | undefined
  private timer: NodeJS.Timeout | undefined
  private stopped = false
  private handlers: SignalHandlers | undefined
  /** Signals received from other coordinators (for tests and metrics). */
  received = 0

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly opts: { origin: string; pollMs: number },
  ) {}

  /** A row to append inside the transaction that makes the news true. */
  row(signal: Signal, now: number): SignalRow {
    return signalRow(signal, this.opts.origin, now)
  }

  /** Appends a signal on its own (the change it announces is committed already). */
  async publish(signal: Signal, now: number): Promise<void> {
    try {
      await eventsRepo.appendEvents(this.db.kysely, [this.row(signal, now)])
    } catch (err) {
      // Peers still learn of it at their next sweep (queued work) or long-poll check (results).
      this.log.warn({ err, kind: signal.kind }, 'could not signal the other coordinators')
    }
  }

  async start(handlers: SignalHandlers): Promise<void> {
    this.handlers = handlers
    await this.openCursor()
    this.schedule()
  }

  /** Reading starts after the newest event; with the database down, at the first poll that reaches it. */
  private async openCursor(): Promise<void> {
    try {
      this.cursor = new EventCursor(await eventsRepo.lastEventId(this.db.kysely))
    } catch (err) {
      this.log.warn({ err }, 'could not start reading signals yet')
    }
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
  }

  /** Old rows are of no use to anyone: every live coordinator read them long ago. */
  prune(before: number): Promise<number> {
    return eventsRepo.deleteEventsBefore(this.db.kysely, before)
  }

  private schedule(): void {
    if (this.stopped) return
    this.timer = setTimeout(() => void this.poll().finally(() => this.schedule()), this.opts.pollMs)
    this.timer.unref()
  }

  /** One read at a time (the next is scheduled when this one ends). */
  async poll(): Promise<void> {
    if (!this.cursor) return this.openCursor()
    const cursor = this.cursor
    if (!this.handlers) return
    let rows: eventsRepo.StoredEvent[]
    try {
      // New rows above the newest seen, and the awaited gaps below it by id: the news never waits
      // behind gaps (on Galera most never fill; see EventCursor.awaited).
      const [fresh, late] = await Promise.all([
        eventsRepo.eventsAfter(this.db.kysely, cursor.newestSeen, READ_LIMIT),
        eventsRepo.eventsWithIds(this.db.kysely, cursor.awaited(MAX_AWAITED)),
      ])
      rows = [...late, ...fresh]
    } catch (err) {
      this.log.warn({ err }, 'could not read signals from the other coordinators')
      return
    }
    const fresh = cursor.accept(rows.map((r) => r.id), performance.now())
    for (const r of rows) {
      if (!fresh.has(r.id) || r.origin === this.opts.origin) continue
      this.received++
      this.deliver(r)
    }
  }

  private deliver(r: eventsRepo.StoredEvent): void {
    const h = this.handlers!
    try {
      const p = JSON.parse(r.payload) as Record<string, unknown>
      if (r.kind === 'jobs.queued') h.queued()
      else if (r.kind === 'job.canceled') h.canceled(String(p.jobId), String(p.workerId), Number(p.token))
      else if (r.kind === 'jobs.finished' && Array.isArray(p.jobIds)) h.finished(p.jobIds.map(String))
      else if (r.kind === 'identity.barred') h.barred?.(String(p.identity), String(p.reason))
      else if (r.kind === 'models.changed') h.modelsChanged?.(String(p.versionId))
    } catch (err) {
      this.log.warn({ err, id: r.id, kind: r.kind }, 'ignored a signal that could not be read')
    }
  }
}
