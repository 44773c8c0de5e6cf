import type { StreamEvent, StreamStats, WorkerView } from '@hivesight/protocol'
import { EventStream, type StreamState } from '../api/event-stream.ts'
import { jobs } from './jobs.svelte.ts'

/** Ten minutes of 2 s figures for the charts. */
const HISTORY = 300

export interface History {
  at: number[]
  imagesPerSecond: number[]
  p50: (number | null)[]
  p95: (number | null)[]
  queued: number[]
  workers: number[]
}

/** Workers, figures and the connection, all from the event stream: nothing here polls. */
class Live {
  state = $state<StreamState>('connecting')
  detail = $state('')
  coordinator = $state('')
  workers = $state<WorkerView[]>([])
  stats = $state<StreamStats | null>(null)
  history = $state<History>({ at: [], imagesPerSecond: [], p50: [], p95: [], queued: [], workers: [] })
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
        this.record(e.data)
        break
      default: {
        const unhandled: never = e
        void unhandled
      }
    }
  }

  private record(s: StreamStats): void {
    const h = this.history
    const push = <T>(a: T[], v: T) => [...a.slice(-(HISTORY - 1)), v]
    this.history = {
      at: push(h.at, s.at / 1000), imagesPerSecond: push(h.imagesPerSecond, s.imagesPerSecond),
      p50: push(h.p50, s.latencyMs.p50), p95: push(h.p95, s.latencyMs.p95), queued: push(h.queued, s.queued), workers: push(h.workers, s.workers),
    }
  }
}

export const live = new Live()
