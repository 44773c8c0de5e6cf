import type { StatsPoint, StreamEvent, StreamStats, WorkerView } from '@hivesight/protocol'
import { EventStream, type StreamState } from '../api/event-stream.ts'
import { columns, DEFAULT_WINDOW_MS, mergePoints } from '../stats-series.ts'
import { jobs } from './jobs.svelte.ts'

/** Workers, figures and the connection, all from the event stream: nothing here polls. */
class Live {
  state = $state<StreamState>('connecting')
  detail = $state('')
  coordinator = $state('')
  workers = $state<WorkerView[]>([])
  stats = $state<StreamStats | null>(null)
  /** The figures of every 2 s tick of the last 15 min: the coordinator's history on connect, then live ones. */
  points = $state.raw<StatsPoint[]>([])
  history = $derived(columns(this.points))
  private windowMs = DEFAULT_WINDOW_MS
  /** Increases with every job event, so views of one job can refresh. */
  jobEvents = $state(0)

  private readonly stream = new EventStream((e) => this.apply(e), (s, detail) => {
    this.state = s
    this.detail = detail ?? ''
  })

  start(): void {
    this.stream.start()
  }

  /** A new API key sees other jobs: start over. */
  restart(): void {
    this.stream.restart()
  }

  private apply(e: StreamEvent): void {
    switch (e.event) {
      case 'ready':
        this.coordinator = e.data.coordinator
        if (!e.data.resumed) void jobs.reload()
        break
      case 'reset':
        void jobs.reload()
        break
      case 'job':
        jobs.upsert(e.data)
        this.jobEvents++
        break
      case 'workers':
        this.workers = e.data.workers
        break
      case 'worker.joined':
        this.workers = [...this.workers.filter((w) => w.id !== e.data.id), e.data]
        break
      case 'worker.left':
        this.workers = this.workers.filter((w) => w.id !== e.data.id)
        break
      case 'stats':
        this.stats = e.data
        this.points = mergePoints(this.points, [e.data], this.windowMs)
        break
      case 'history':
        this.windowMs = e.data.windowMs
        this.points = mergePoints(this.points, e.data.points, this.windowMs)
        break
      default: {
        const unhandled: never = e
        void unhandled
      }
    }
  }
}

export const live = new Live()
