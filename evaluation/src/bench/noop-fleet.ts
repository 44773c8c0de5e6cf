import { PROTOCOL_VERSION, decodeAssignFrame } from '@hivesight/protocol'
import WebSocket from 'ws'

/**
 * Many simulated no-op workers (one socket each) for measuring the coordinator alone: every job is
 * answered the moment it arrives. Records when each job reached a worker (for upload→dispatch latency).
 */
export class NoopFleet {
  private readonly sockets: WebSocket[] = []
  answered = 0
  readonly arrivedAt = new Map<string, number>()
  recordArrivals = false
  /** Called for every answer (progress lines). */
  onEach: (() => void) | undefined
  private onAnswer: (() => void) | undefined

  static async connect(urls: string[], sockets: number, slots: number): Promise<NoopFleet> {
    const fleet = new NoopFleet()
    await Promise.all(Array.from({ length: sockets }, (_, i) => fleet.add(urls[i % urls.length]!, slots, i)))
    return fleet
  }

  private add(url: string, slots: number, n: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${url.replace('http', 'ws')}/ws/worker`, { perMessageDeflate: false })
      this.sockets.push(ws)
      ws.on('open', () => ws.send(JSON.stringify({ type: 'worker.hello', protocol: PROTOCOL_VERSION, kind: 'headless', slots, backend: 'simulated', threads: 1, simd: false, name: `noop-${n}` })))
      ws.on('message', (data, isBinary) => {
        if (!isBinary) {
          if (data.toString().includes('"worker.welcome"')) resolve()
          return
        }
        const buf = data as Buffer
        const frame = decodeAssignFrame(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength))
        if (!frame.ok) return
        if (this.recordArrivals) this.arrivedAt.set(frame.header.jobId, performance.now())
        ws.send(`{"type":"job.result","jobId":"${frame.header.jobId}","leaseToken":${frame.header.leaseToken},"model":"${frame.header.model}","top":[{"index":1,"score":0.9}],"timings":{"decodeMs":0,"inferMs":0}}`)
        this.answered++
        this.onEach?.()
        this.onAnswer?.()
      })
      ws.on('error', reject)
    })
  }

  /** Resolves once `n` answers were sent in all (or rejects after `timeoutMs`). */
  whenAnswered(n: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.answered} of ${n} jobs answered in ${timeoutMs} ms`)), timeoutMs)
      this.onAnswer = () => {
        if (this.answered < n) return
        clearTimeout(timer)
        this.onAnswer = undefined
        resolve()
      }
      this.onAnswer()
    })
  }

  close(): void {
    for (const ws of this.sockets) ws.terminate()
  }
}
