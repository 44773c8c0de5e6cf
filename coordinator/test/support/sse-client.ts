/** One Server-Sent Event as received. */
export interface ReceivedEvent {
  id: string | undefined
  event: string
  data: unknown
}

/**
 * A minimal SSE reader over fetch (Node has no EventSource): collects events, lets a test wait for one,
 * and remembers the last id the way EventSource does.
 */
export class SseClient {
  readonly events: ReceivedEvent[] = []
  lastEventId: string | undefined
  status = 0
  private readonly abort = new AbortController()
  private waiters: (() => void)[] = []

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const c = new SseClient()
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: c.abort.signal })
    c.status = res.status
    c.contentType = res.headers.get('content-type') ?? ''
    if (res.ok && res.body) void c.read(res.body)
    else c.body = await res.text()
    return c
  }

  contentType = ''
  body = ''

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder()
    let buffer = ''
    const reader = body.getReader()
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) return
        buffer += decoder.decode(value, { stream: true })
        let end: number
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this.take(buffer.slice(0, end))
          buffer = buffer.slice(end + 2)
        }
      }
    } catch { /* aborted */ }
  }

  private take(block: string): void {
    let id: string | undefined
    let event = 'message'
    const data: string[] = []
    for (const line of block.split('\n')) {
      if (line.startsWith('id: ')) id = line.slice(4)
      else if (line.startsWith('event: ')) event = line.slice(7)
      else if (line.startsWith('data: ')) data.push(line.slice(6))
    }
    if (data.length === 0) return
    if (id !== undefined) this.lastEventId = id
    this.events.push({ id, event, data: JSON.parse(data.join('\n')) as unknown })
    for (const w of this.waiters.splice(0)) w()
  }

  /** The first event (from `from` on) that matches; waits up to `timeoutMs`. */
  async next(match: (e: ReceivedEvent) => boolean, timeoutMs = 5_000, what = 'an event', from = 0): Promise<ReceivedEvent> {
    const end = Date.now() + timeoutMs
    for (;;) {
      const found = this.events.slice(from).find(match)
      if (found) return found
      const left = end - Date.now()
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${this.events.map((e) => e.event).join(', ')}`)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left)
        this.waiters.push(() => { clearTimeout(t); resolve() })
      })
    }
  }

  close(): void {
    this.abort.abort()
  }
}

export const isJob = (id: string, status?: string) => (e: ReceivedEvent) =>
  e.event === 'job' && (e.data as { id: string }).id === id && (status === undefined || (e.data as { status: string }).status === status)
