import { PROTOCOL_VERSION, decodeAssignFrame, decodeFromCoordinator, type FromCoordinator, type FromWorker, type JobAssign, type WorkerHello } from '@hivesight/protocol'
import WebSocket from 'ws'

export interface Assignment {
  job: JobAssign
  image: Uint8Array
}

/**
 * A worker without a model: speaks the real protocol over a real WebSocket so tests, load runs and the
 * fault suite can drive the coordinator fast and decide each answer themselves.
 */
export class SimulatedWorker {
  readonly assignments: Assignment[] = []
  readonly messages: FromCoordinator[] = []
  workerId: string | undefined
  private waiters: (() => void)[] = []
  private closed: Promise<{ code: number; reason: string }>

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const buf = data as Buffer
      if (isBinary) {
        const frame = decodeAssignFrame(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength))
        if (frame.ok) this.assignments.push({ job: frame.header, image: frame.image })
      } else {
        const decoded = decodeFromCoordinator(buf.toString())
        if (decoded.ok) {
          this.messages.push(decoded.msg)
          if (decoded.msg.type === 'worker.welcome') this.workerId = decoded.msg.workerId
        }
      }
      for (const w of this.waiters.splice(0)) w()
    })
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() })
      for (const w of this.waiters.splice(0)) w()
    }))
  }

  /** Connects and says hello; resolves once welcomed (unless `hello` is false). */
  static async connect(url: string, opts: { slots?: number; hello?: boolean; name?: string; headers?: Record<string, string>; token?: string } = {}): Promise<SimulatedWorker> {
    const ws = new WebSocket(url, { headers: opts.headers })
    const worker = new SimulatedWorker(ws)
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    })
    if (opts.hello !== false) {
      const hello: WorkerHello = { type: 'worker.hello', protocol: PROTOCOL_VERSION, kind: 'headless', slots: opts.slots ?? 1, backend: 'simulated', threads: 1, simd: false, name: opts.name, token: opts.token }
      worker.send(hello)
      await worker.waitFor(() => worker.workerId !== undefined, 5_000, 'worker.welcome')
    }
    return worker
  }

  send(msg: FromWorker | Record<string, unknown>): void {
    this.ws.send(JSON.stringify(msg))
  }

  /** The n-th assignment (0-based), waiting for it to arrive. */
  async assignment(n: number, timeoutMs = 5_000): Promise<Assignment> {
    await this.waitFor(() => this.assignments.length > n, timeoutMs, `assignment #${n + 1}`)
    return this.assignments[n]!
  }

  /** Answers an assignment with the given class indices (best first). */
  succeed(a: Assignment, indices: number[] = [1, 2, 3, 4, 5]): void {
    const top = indices.map((index, i) => ({ index, score: 0.5 / (i + 1) }))
    this.send({ type: 'job.result', jobId: a.job.jobId, leaseToken: a.job.leaseToken, model: a.job.model, top, timings: { decodeMs: 1, inferMs: 2 } })
  }

  fail(a: Assignment, retryable: boolean): void {
    this.send({ type: 'job.failed', jobId: a.job.jobId, leaseToken: a.job.leaseToken, code: retryable ? 'INFERENCE_FAILED' : 'IMAGE_DECODE_FAILED', message: 'simulated', retryable })
  }

  async waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const end = Date.now() + timeoutMs
    while (!cond()) {
      const left = end - Date.now()
      if (left <= 0) throw new Error(`simulated worker: timed out waiting for ${what}`)
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`simulated worker: connection closed while waiting for ${what}`)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left)
        this.waiters.push(() => {
          clearTimeout(t)
          resolve()
        })
      })
    }
  }

  whenClosed(): Promise<{ code: number; reason: string }> {
    return this.closed
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return
    this.ws.close()
    await this.closed
  }

  /** Drop the TCP connection without a close frame, like a crashed machine would. */
  kill(): void {
    this.ws.terminate()
  }
}
