import type { JobView, StatsPoint, StreamEvent, WorkerView } from '@hivesight/protocol'
import type { Db } from '../db/create-db.ts'
import * as eventsRepo from '../db/event.repository.ts'
import * as feedRepo from '../db/event-feed.repository.ts'
import { AppError } from '../errors/app-errors.ts'
import type { Clock } from '../jobs/clock.ts'
import { EventCursor } from '../jobs/event-cursor.ts'
import type { Scope } from '../jobs/job-service.ts'
import { toJobView, type Labeller } from '../jobs/job-view.ts'
import type { Logger } from '../jobs/logger.ts'
import { listWorkerViews } from '../workers/worker-view.ts'
import { FEED_WORKERS } from './event-journal.ts'
import { LatencyWindow } from './latency-window.ts'
import { StatsHistory } from './stats-history.ts'

/** One event as the stream sends it; `id` only where a client may resume after it. */
export type StreamFrame = StreamEvent & { id?: string }

/** Where a stream's frames go (the HTTP response); `close` ends it. */
export interface StreamSink {
  send(frames: StreamFrame[]): void
  close(): void
}

export interface EventHubOptions {
  coordinatorId: string
  label: Labeller
  pollMs: number
  statsMs: number
  /** How long events are kept in the shared table (the sweep prunes older ones). */
  eventsKeptMs: number
  maxStreams: number
  maxStreamsPerKey: number
  /** How far back the figures sent on connect (`history`) reach; 15 min unless told. */
  historyMs?: number
}

interface Subscriber {
  scope: Scope
  sink: StreamSink
}

const READ_LIMIT = 1_000
// A longer replay would hold every other stream of this coordinator back: past this, a reset.
const REPLAY_LIMIT = 2_000
// Totals are a scan of the jobs table: at most every other tick, and only while jobs change.
const TOTALS_EVERY = 2
const LATENCY_WINDOW_MS = 60_000
const HISTORY_MS = 15 * 60_000

const keyOf = (scope: Scope) => (scope === 'all' ? '' : scope.owner)
const sees = (scope: Scope, owner: string | null) => scope === 'all' || scope.owner === owner

/**
 * The event stream of one coordinator: reads the shared events table (every coordinator's rows, its own
 * included) while anyone listens, turns rows into the current state of the jobs they name, and fans that
 * out to each stream the caller's key may see. Everything that reads or changes its state runs one step at
 * a time (`serial`), so a stream joining with Last-Event-ID is replayed up to exactly where the live
 * stream takes over.
 */
export class EventHub {
  private readonly subs = new Set<Subscriber>()
  private cursor: EventCursor | undefined
  /** The highest row id this hub has read. */
  private seenUpTo = 0
  private workers = new Map<string, WorkerView>()
  private latency = new LatencyWindow(LATENCY_WINDOW_MS)
  private totals: Record<string, number> | null = null
  private ticks = 0
  private jobsChanged = true
  private timers: NodeJS.Timeout[] = []
  private serial: Promise<unknown> = Promise.resolve()
  private lastWarning = 0
  private lastPoint: StatsPoint | undefined
  private readonly history: StatsHistory<StatsPoint>
  /** Set by `run`: the figures are kept while nobody listens (a page opened later gets them). */
  private always = false
  private retry: NodeJS.Timeout | undefined
  private lastRead = 0
  /** Bumped at every start and stop, so a poll loop of an earlier start does not carry on. */
  private generation = 0

  constructor(private readonly db: Db, private readonly clock: Clock, private readonly log: Logger, private readonly opts: EventHubOptions) {
    this.history = StatsHistory.forTicks(opts.historyMs ?? HISTORY_MS, opts.statsMs)
  }

  /**
   * Keeps reading while no stream is open, so the figures of the last 15 min are there for the next page
   * (the events table then only every `statsMs`). Retries while the database is unreachable.
   */
  run(): void {
    this.always = true
    const attempt = () => void this.step(async () => { if (this.always && !this.cursor) await this.start() }).catch((err: unknown) => {
      if (!this.always) return // closed meanwhile
      this.warn(err, 'could not start reading the events table; retrying')
      this.retry = setTimeout(attempt, this.opts.statsMs)
      this.retry.unref()
    })
    attempt()
  }

  get streams(): number {
    return this.subs.size
  }

  /** Refuses a stream over the limits (before the response starts). */
  admit(scope: Scope): void {
    const key = keyOf(scope)
    const mine = [...this.subs].filter((s) => keyOf(s.scope) === key).length
    if (this.subs.size >= this.opts.maxStreams || (scope !== 'all' && mine >= this.opts.maxStreamsPerKey)) {
      throw new AppError('RATE_LIMITED', `too many open event streams (at most ${this.opts.maxStreamsPerKey} per API key); close one`, { retryAfter: 5 })
    }
  }

  /** Starts a stream: a replay after `lastEventId` (or a reset), `ready`, the workers, then live events. */
  subscribe(scope: Scope, lastEventId: number | undefined, sink: StreamSink): Promise<() => void> {
    return this.step(async () => {
      if (!this.cursor) await this.start()
      // Read only every `statsMs` while nobody listened: catch up first, so a replay reaches the newest row.
      else if (this.subs.size === 0) await this.poll(true)
      const frames = lastEventId === undefined ? [] : await this.replay(scope, lastEventId)
      const resumed = lastEventId !== undefined && frames[0]?.event !== 'reset'
      const watermark = Math.max(this.cursor!.readAfter, resumed ? lastEventId : 0)
      frames.push({ event: 'ready', id: String(watermark), data: { coordinator: this.opts.coordinatorId, resumed, eventsKeptMs: this.opts.eventsKeptMs } })
      frames.push({ event: 'history', data: { windowMs: this.history.windowMs, points: this.history.list(this.clock.now()) } })
      frames.push({ event: 'workers', data: { workers: [...this.workers.values()] } })
      if (this.lastPoint && this.subs.size === 0 && this.jobsChanged) {
        this.jobsChanged = false
        this.totals = await feedRepo.countJobsByStatus(this.db.kysely)
      }
      if (this.lastPoint) frames.push(this.statsFrame(this.lastPoint))
      sink.send(frames)
      const sub = { scope, sink }
      this.subs.add(sub)
      return () => this.unsubscribe(sub)
    })
  }

  /** Ends every stream (shutdown). */
  closeAll(): void {
    this.always = false
    clearTimeout(this.retry)
    for (const s of [...this.subs]) s.sink.close()
    this.subs.clear()
    this.stop()
  }

  private unsubscribe(sub: Subscriber): void {
    if (this.subs.delete(sub) && this.subs.size === 0 && !this.always) this.stop()
  }

  private step<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.serial.then(fn)
    this.serial = p.catch(() => undefined)
    return p
  }

  private async start(): Promise<void> {
    const generation = ++this.generation
    const from = await eventsRepo.lastEventId(this.db.kysely)
    const workers = await listWorkerViews(this.db.kysely)
    // Stopped while reading (the app closing): start nothing that would outlive it.
    if (this.generation !== generation) throw new AppError('SERVICE_UNAVAILABLE', 'the event stream is shutting down', { retryAfter: 2 })
    this.cursor = new EventCursor(from)
    this.seenUpTo = from
    this.workers = new Map(workers.map((w) => [w.id, w]))
    this.latency = new LatencyWindow(LATENCY_WINDOW_MS)
    this.lastPoint = undefined
    this.jobsChanged = true
    const poll = () => {
      this.timers[0] = setTimeout(() => void this.step(() => this.poll()).finally(() => { if (this.generation === generation) poll() }), this.opts.pollMs)
      this.timers[0].unref()
    }
    poll()
    this.timers[1] = setInterval(() => void this.step(() => this.tick()), this.opts.statsMs)
    this.timers[1].unref()
  }

  private stop(): void {
    this.generation++
    for (const t of this.timers) clearTimeout(t)
    this.timers = []
    this.cursor = undefined
  }

  /** Job events after `after` (current state, this stream's scope), or a reset when they cannot be had. */
  private async replay(scope: Scope, after: number): Promise<StreamFrame[]> {
    const reset = (reason: string): StreamFrame[] => [{ event: 'reset', data: { reason } }]
    if (after > this.seenUpTo) return reset(`event ${after} is unknown here (newer than any event of this database)`)
    if (after >= this.cursor!.readAfter) return []
    const oldest = await feedRepo.oldestEventId(this.db.kysely)
    if (oldest === undefined || oldest > after + 1) return reset(`events are kept ${Math.round(this.opts.eventsKeptMs / 1000)} s; those after ${after} are gone`)
    const rows = (await eventsRepo.eventsAfter(this.db.kysely, after, REPLAY_LIMIT + 1)).filter((r) => r.id <= this.seenUpTo)
    if (rows.length > REPLAY_LIMIT) return reset('too many events since that id to replay')
    const views = await this.load(jobIdsOf(rows))
    return views.filter((v) => sees(scope, v.owner)).map((v) => ({ event: 'job', data: v.view }))
  }

  private async poll(catchUp = false): Promise<void> {
    const cursor = this.cursor
    if (!cursor) return
    // Nobody to tell within 100 ms: the latency figures need the finished jobs only by the next tick.
    if (!catchUp && this.subs.size === 0 && performance.now() - this.lastRead < this.opts.statsMs) return
    this.lastRead = performance.now()
    try {
      for (;;) {
        const rows = await eventsRepo.eventsAfter(this.db.kysely, cursor.readAfter, READ_LIMIT)
        const fresh = cursor.accept(rows.map((r) => r.id), performance.now())
        const news = rows.filter((r) => fresh.has(r.id))
        for (const r of news) this.seenUpTo = Math.max(this.seenUpTo, r.id)
        if (news.some((r) => r.kind === FEED_WORKERS)) await this.refreshWorkers()
        const ids = jobIdsOf(news)
        if (ids.length > 0) this.publishJobs(await this.load(ids), String(cursor.readAfter))
        if (rows.length < READ_LIMIT) return
      }
    } catch (err) {
      this.warn(err, 'could not read the events table for the event stream')
    }
  }

  private async load(ids: string[]): Promise<{ view: JobView; owner: string | null }[]> {
    const rows = new Map((await feedRepo.findJobsByIds(this.db.kysely, ids)).map((r) => [r.id, r]))
    return ids.flatMap((id) => {
      const r = rows.get(id)
      return r ? [{ view: toJobView(r, this.opts.label), owner: r.owner_key_id }] : []
    })
  }

  private publishJobs(views: { view: JobView; owner: string | null }[], id: string): void {
    this.jobsChanged = true
    for (const { view } of views) {
      if (view.status === 'succeeded' && view.finishedAt !== null) this.latency.add(view.id, view.finishedAt, view.finishedAt - view.submittedAt)
    }
    for (const s of this.subs) {
      const frames: StreamFrame[] = views.filter((v) => sees(s.scope, v.owner)).map((v) => ({ event: 'job', data: v.view }))
      if (frames.length === 0) continue
      frames[frames.length - 1]!.id = id
      s.sink.send(frames)
    }
  }

  private broadcast(frames: StreamFrame[]): void {
    if (frames.length > 0) for (const s of this.subs) s.sink.send(frames)
  }

  /** Reads the worker list and tells every stream who joined and who left. */
  private async refreshWorkers(): Promise<void> {
    const now = new Map((await listWorkerViews(this.db.kysely)).map((w) => [w.id, w]))
    const frames: StreamFrame[] = []
    for (const [id, w] of now) if (!this.workers.has(id)) frames.push({ event: 'worker.joined', data: w })
    for (const id of this.workers.keys()) if (!now.has(id)) frames.push({ event: 'worker.left', data: { id } })
    this.workers = now
    this.broadcast(frames)
  }

  private statsFrame(point: StatsPoint): StreamFrame {
    return { event: 'stats', data: { ...point, totals: this.totals } }
  }

  /** Every `statsMs`: the workers with their figures, and the throughput figures. */
  private async tick(): Promise<void> {
    if (!this.cursor) return
    try {
      await this.refreshWorkers()
      const active = await feedRepo.countActiveJobs(this.db.kysely)
      // Nobody to send totals to: the history keeps none, so the scan waits for a stream (see subscribe).
      if (this.subs.size > 0 && this.ticks++ % TOTALS_EVERY === 0 && this.jobsChanged) {
        this.jobsChanged = false
        this.totals = await feedRepo.countJobsByStatus(this.db.kysely)
      }
      const workers = [...this.workers.values()]
      const now = this.clock.now()
      const point: StatsPoint = {
        at: now, imagesPerSecond: Math.round(workers.reduce((s, w) => s + w.imagesPerSecond, 0) * 100) / 100,
        latencyMs: this.latency.percentiles(now), queued: active.queued, running: active.running, workers: workers.length,
        slots: workers.reduce((s, w) => s + w.slots, 0), busy: workers.reduce((s, w) => s + w.busy, 0),
      }
      this.history.add(point)
      this.lastPoint = point
      this.broadcast([{ event: 'workers', data: { workers } }, this.statsFrame(point)])
    } catch (err) {
      this.warn(err, 'could not read the figures for the event stream')
    }
  }

  private warn(err: unknown, msg: string): void {
    // A database outage would log this every poll: once every 10 s is enough.
    if (performance.now() - this.lastWarning < 10_000) return
    this.lastWarning = performance.now()
    this.log.warn({ err }, msg)
  }
}

/** The job ids rows name, each once, in the order of their first mention. */
export function jobIdsOf(rows: { kind: string; payload: string }[]): string[] {
  const ids = new Set<string>()
  for (const r of rows) {
    if (r.kind !== 'feed.jobs' && r.kind !== 'jobs.finished' && r.kind !== 'job.canceled') continue
    try {
      const p = JSON.parse(r.payload) as { jobIds?: unknown; jobId?: unknown }
      if (Array.isArray(p.jobIds)) for (const id of p.jobIds) ids.add(String(id))
      if (typeof p.jobId === 'string') ids.add(p.jobId)
    } catch { /* a row that cannot be read names nothing */ }
  }
  return [...ids]
}
