import { SIGNED_SCORE, signedIndex } from './holds.ts'
import { PROTOCOL_VERSION, decodeAssignFrame, decodeFromCoordinator, type FromWorker } from '@hivesight/protocol'
import WebSocket from 'ws'
import type { Hold } from './holds.ts'

export interface Assigned {
  worker: string
  jobId: string
  coordinator: string
  at: number
}

export interface FleetLog {
  holds: Hold[]
  assigned: Assigned[]
  canceled: { worker: string; jobId: string; at: number }[]
}

/**
 * A simulated worker that writes down every span it held a job (performance.now(), one clock for the whole
 * fleet) and answers after `latencyMs` unless told to hold on. When its coordinator goes away it moves to
 * the next one in the list, as a runtime behind a load balancer would.
 */
export class RecordingWorker {
  private ws: WebSocket | undefined
  private stopped = false
  private readonly open = new Map<string, { from: number; timer?: NodeJS.Timeout }>()
  private next = 0
  /** When set, jobs are held until released by the test. */
  holdJobs = false

  constructor(readonly name: string, private readonly coordinators: string[], private readonly log: FleetLog, private readonly opts: { slots: number; latencyMs: () => number; startAt?: number; signAnswers?: boolean }) {
    this.next = opts.startAt ?? 0
  }

  start(): Promise<void> {
    return this.connect()
  }

  get holding(): string[] {
    return [...this.open.keys()]
  }

  private connect(): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve()
      const url = this.coordinators[this.next % this.coordinators.length]!
      const ws = new WebSocket(`${url.replace('http', 'ws')}/ws/worker`)
      this.ws = ws
      ws.on('open', () => this.send(ws, { type: 'worker.hello', protocol: PROTOCOL_VERSION, kind: 'headless', slots: this.opts.slots, backend: 'simulated', threads: 1, simd: false, name: this.name }))
      ws.on('message', (data, isBinary) => {
        const buf = data as Buffer
        if (!isBinary) {
          const d = decodeFromCoordinator(buf.toString())
          if (d.ok && d.msg.type === 'worker.welcome') resolve()
          if (d.ok && d.msg.type === 'job.cancel') {
            this.log.canceled.push({ worker: this.name, jobId: d.msg.jobId, at: performance.now() })
            this.end(d.msg.jobId)
          }
          return
        }
        const frame = decodeAssignFrame(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength))
        if (!frame.ok) return
        const { jobId, leaseToken, model } = frame.header
        const at = performance.now()
        this.log.assigned.push({ worker: this.name, jobId, coordinator: url, at })
        const entry: { from: number; timer?: NodeJS.Timeout } = { from: at }
        this.open.set(jobId, entry)
        if (this.holdJobs) return
        entry.timer = setTimeout(() => {
          if (this.ws !== ws || this.open.get(jobId) !== entry) return
          this.end(jobId)
          this.send(ws, { type: 'job.result', jobId, leaseToken, model, top: this.opts.signAnswers ? [{ index: signedIndex(leaseToken), score: SIGNED_SCORE }] : [{ index: 1, score: 0.9 }], timings: { decodeMs: 0, inferMs: 0 } })
        }, this.opts.latencyMs())
      })
      ws.on('close', () => {
        // Whatever it held is no longer held: the coordinator takes it back.
        for (const jobId of [...this.open.keys()]) this.end(jobId)
        if (this.stopped) return resolve()
        this.next++
        setTimeout(() => void this.connect().then(resolve), 200)
      })
      ws.on('error', () => undefined)
    })
  }

  private end(jobId: string): void {
    const h = this.open.get(jobId)
    if (!h) return
    clearTimeout(h.timer)
    this.open.delete(jobId)
    this.log.holds.push({ jobId, worker: this.name, from: h.from, to: performance.now() })
  }

  private send(ws: WebSocket, msg: FromWorker): void {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg))
  }

  async stop(): Promise<void> {
    this.stopped = true
    const ws = this.ws
    if (!ws || ws.readyState === WebSocket.CLOSED) return
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve())
      ws.close()
    })
  }
}

