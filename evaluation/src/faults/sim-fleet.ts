import { PROTOCOL_VERSION, decodeAssignFrame, decodeFromCoordinator, type FromWorker } from '@hivesight/protocol'
import WebSocket from 'ws'

/** Bytes that make a simulated worker fail an image as undecodable, like a truncated JPEG in a browser. */
export const POISON_MARKER = Buffer.from('HIVESIGHT-POISON')

export interface FleetEvents {
  /** Every job.assign a worker received, with the time it arrived. */
  assigned: { worker: string; jobId: string; attempt: number; at: number }[]
  staleAnswersSent: number
}

/**
 * A simulated worker for load and fault runs: a real WebSocket peer that answers every job after
 * `latencyMs` with a per-attempt marker (class index = attempt number), reconnects with backoff when the
 * coordinator goes away, and can be killed, frozen (stops reading: no pongs, no answers) or drained.
 */
export class AutoWorker {
  private ws: WebSocket | undefined
  private stopped = false
  private frozen = false
  private draining = false
  private held: { jobId: string; leaseToken: number; attempt: number; model: string }[] = []
  private late: { jobId: string; leaseToken: number; attempt: number; model: string }[] = []

  constructor(private readonly wsUrl: string, readonly name: string, private readonly events: FleetEvents, private readonly opts: { slots: number; latencyMs: number; token?: string }) {}

  start(): void {
    this.connect(0)
  }

  private connect(failures: number): void {
    if (this.stopped) return
    const ws = new WebSocket(this.wsUrl)
    this.ws = ws
    ws.on('open', () => this.send({ type: 'worker.hello', protocol: PROTOCOL_VERSION, kind: 'headless', slots: this.opts.slots, backend: 'simulated', threads: 1, simd: false, name: this.name, token: this.opts.token }))
    ws.on('message', (data, isBinary) => {
      const buf = data as Buffer
      if (!isBinary) {
        const d = decodeFromCoordinator(buf.toString())
        if (d.ok && d.msg.type === 'worker.welcome') {
          failures = 0
          // Answers held through a freeze arrive late, on the new connection: the coordinator must refuse them.
          for (const h of this.late.splice(0)) {
            this.answer(h, false)
            this.events.staleAnswersSent++
          }
        }
        if (d.ok && d.msg.type === 'job.cancel') this.held = this.held.filter((h) => h.jobId !== (d.msg.type === 'job.cancel' ? d.msg.jobId : ''))
        return
      }
      const frame = decodeAssignFrame(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength))
      if (!frame.ok) return
      const { jobId, leaseToken, attempt, model } = frame.header
      this.events.assigned.push({ worker: this.name, jobId, attempt, at: Date.now() })
      const held = { jobId, leaseToken, attempt, model }
      this.held.push(held)
      const poison = Buffer.from(frame.image).includes(POISON_MARKER)
      setTimeout(() => {
        if (this.frozen || this.ws !== ws || !this.held.includes(held)) return
        this.held = this.held.filter((h) => h !== held)
        this.answer(held, poison)
      }, this.opts.latencyMs)
    })
    ws.on('close', () => {
      if (this.ws !== ws) return
      if (this.frozen) this.late.push(...this.held)
      this.held = []
      if (!this.stopped) setTimeout(() => this.connect(failures + 1), Math.min(2_000, 100 * 2 ** failures) * (0.5 + Math.random() / 2))
    })
    ws.on('error', () => undefined)
  }

  private answer(h: { jobId: string; leaseToken: number; attempt: number; model: string }, poison: boolean): void {
    if (poison) {
      this.send({ type: 'job.failed', jobId: h.jobId, leaseToken: h.leaseToken, code: 'IMAGE_DECODE_FAILED', message: 'simulated: truncated image', retryable: false })
    } else {
      this.send({ type: 'job.result', jobId: h.jobId, leaseToken: h.leaseToken, model: h.model, top: [{ index: Math.min(1000, h.attempt), score: 0.9 }], timings: { decodeMs: 1, inferMs: this.opts.latencyMs } })
    }
  }

  private send(msg: FromWorker): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg))
  }

  get holding(): string[] {
    return this.held.map((h) => h.jobId)
  }

  /** Like kill -9 of the machine: the TCP connection is cut, nothing more is said, no reconnect. */
  kill(): void {
    this.stopped = true
    this.ws?.terminate()
  }

  /** Like SIGSTOP: stop reading the socket (so no pong), answer nothing. */
  freeze(): void {
    this.frozen = true
    this.ws?.pause()
  }

  /**
   * Like SIGCONT: read again; the answers held during the freeze go out late, and must be refused as stale.
   * A socket the coordinator dropped meanwhile still reads as open until the close is read after resume():
   * answers written at once would go nowhere (they did, and were counted as sent). So they wait for the next
   * welcome, or, if the connection outlived the freeze, go out on it a moment later.
   */
  thaw(): void {
    this.frozen = false
    this.late.push(...this.held.splice(0))
    const ws = this.ws
    ws?.resume()
    setTimeout(() => {
      if (this.ws !== ws || ws?.readyState !== WebSocket.OPEN) return
      for (const h of this.late.splice(0)) {
        this.answer(h, false)
        this.events.staleAnswersSent++
      }
    }, 500)
  }

  /** Like SIGTERM to a runtime: no new jobs, unstarted ones handed back, the rest finished, then leave. */
  async drain(): Promise<void> {
    this.draining = true
    this.send({ type: 'worker.drain' })
    await new Promise((r) => setTimeout(r, this.opts.latencyMs * 2 + 50))
    this.stopped = true
    this.ws?.close()
  }

  get isDraining(): boolean {
    return this.draining
  }
}
