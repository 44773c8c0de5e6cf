import type { StreamEvent, StreamEventName } from '@hivesight/protocol'
import { authHeaders } from './client.ts'

// Types only from protocol/ (its runtime pulls in the schema compiler); a new event name fails this check.
const KNOWN: Record<StreamEventName, true> = { ready: true, job: true, workers: true, 'worker.joined': true, 'worker.left': true, stats: true, history: true, reset: true }

export type StreamState = 'connecting' | 'live' | 'retrying' | 'refused'

/**
 * GET /api/v1/events read with fetch, because EventSource cannot send the Authorization header (and the key
 * must never be in a URL). Reconnects by itself with Last-Event-ID, backing off to 10 s.
 */
export class EventStream {
  private lastEventId: string | undefined
  private abort: AbortController | undefined
  private stopped = false
  private backoffMs = 500

  constructor(private readonly onEvent: (e: StreamEvent) => void, private readonly onState: (s: StreamState, detail?: string) => void) {}

  start(): void {
    this.stopped = false
    void this.loop()
  }

  /** Stops, forgets the position (a new key sees other jobs) and starts again. */
  restart(): void {
    this.stop()
    this.lastEventId = undefined
    this.start()
  }

  stop(): void {
    this.stopped = true
    this.abort?.abort()
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      this.onState('connecting')
      try {
        await this.once()
      } catch (err) {
        if (this.stopped) return
        if (err instanceof Refused) {
          this.onState('refused', err.message)
          return
        }
      }
      if (this.stopped) return
      this.onState('retrying')
      await new Promise((r) => setTimeout(r, this.backoffMs))
      this.backoffMs = Math.min(10_000, this.backoffMs * 2)
    }
  }

  private async once(): Promise<void> {
    this.abort = new AbortController()
    const headers: Record<string, string> = { accept: 'text/event-stream', ...authHeaders() }
    if (this.lastEventId) headers['last-event-id'] = this.lastEventId
    const res = await fetch('/api/v1/events', { headers, signal: this.abort.signal, cache: 'no-store' })
    if (res.status === 401 || res.status === 400) {
      const p = (await res.json().catch(() => ({}))) as { detail?: string }
      throw new Refused(p.detail ?? `refused (${res.status})`)
    }
    if (!res.ok || !res.body) return
    const reader = res.body.getReader()
    const decoder = new TextDecoder()
    let buffer = ''
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      buffer += decoder.decode(value, { stream: true })
      let end: number
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        this.dispatch(buffer.slice(0, end))
        buffer = buffer.slice(end + 2)
      }
    }
  }

  private dispatch(block: string): void {
    let name = ''
    let data = ''
    for (const line of block.split('\n')) {
      if (line.startsWith('id: ')) this.lastEventId = line.slice(4)
      else if (line.startsWith('event: ')) name = line.slice(7)
      else if (line.startsWith('data: ')) data += line.slice(6)
    }
    if (!data || !(name in KNOWN)) return
    if (name === 'ready') {
      this.backoffMs = 500
      this.onState('live')
    }
    this.onEvent({ event: name as StreamEventName, data: JSON.parse(data) } as StreamEvent)
  }
}

class Refused extends Error {}
