import { decodeAssignFrame, decodeFromCoordinator, type FromWorker, type JobAssign, type WorkerHello } from '@hivesight/protocol'

export interface ConnectionEvents {
  onWelcome(workerId: string): void
  onAssign(job: JobAssign, image: Uint8Array): void
  onCancel(jobId: string, reason: string): void
  onCoordinatorDraining(): void
  /** The coordinator asks this (trusted) page to smoke-test a new model version. */
  onModelCheck(versionId: string): void
  onDisconnect(reason: string): void
  onProblem(message: string): void
}

const MIN_BACKOFF_MS = 250
const MAX_BACKOFF_MS = 10_000

/** Capped exponential backoff with full jitter, so a restarted coordinator is not hit by every worker at once. */
export function reconnectDelay(failures: number, random: () => number = Math.random): number {
  const cap = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** Math.min(failures, 10))
  return Math.round(cap / 2 + random() * (cap / 2))
}

/** One WebSocket to the coordinator at a time; reconnects on its own. */
export class CoordinatorConnection {
  private ws: WebSocket | undefined
  private failures = 0
  private watchdog: ReturnType<typeof setInterval> | undefined
  private lastHeard = 0

  constructor(private readonly url: string, private readonly hello: WorkerHello, private readonly events: ConnectionEvents) {}

  connect(): void {
    const ws = new WebSocket(this.url)
    ws.binaryType = 'arraybuffer'
    this.ws = ws
    ws.onopen = () => ws.send(JSON.stringify(this.hello))
    ws.onmessage = (ev: MessageEvent<ArrayBuffer | string>) => {
      this.lastHeard = Date.now()
      if (typeof ev.data !== 'string') {
        const frame = decodeAssignFrame(new Uint8Array(ev.data))
        if (frame.ok) this.events.onAssign(frame.header, frame.image)
        else this.events.onProblem(`bad job frame: ${frame.reason}`)
        return
      }
      const decoded = decodeFromCoordinator(ev.data)
      if (!decoded.ok) return this.events.onProblem(`bad message: ${decoded.reason}`)
      const msg = decoded.msg
      switch (msg.type) {
        case 'worker.welcome':
          this.failures = 0
          this.watch(ws, msg.heartbeatMs)
          return this.events.onWelcome(msg.workerId)
        case 'coordinator.heartbeat':
          return
        case 'error':
          return this.events.onProblem(`${msg.code}: ${msg.message}`)
        case 'job.cancel':
          return this.events.onCancel(msg.jobId, msg.reason)
        case 'coordinator.draining':
          return this.events.onCoordinatorDraining()
        case 'model.check':
          return this.events.onModelCheck(msg.model)
        default: {
          const unhandled: never = msg
          return unhandled
        }
      }
    }
    ws.onclose = (ev) => {
      if (this.ws !== ws) return
      clearInterval(this.watchdog)
      this.ws = undefined
      this.events.onDisconnect(ev.reason || `code ${ev.code}`)
      setTimeout(() => this.connect(), reconnectDelay(this.failures++))
    }
  }

  /** Silence for 3 heartbeats means the coordinator dropped us (e.g. during a partition): start over. */
  private watch(ws: WebSocket, heartbeatMs: number): void {
    clearInterval(this.watchdog)
    this.lastHeard = Date.now()
    this.watchdog = setInterval(() => {
      if (Date.now() - this.lastHeard > 3 * heartbeatMs) {
        clearInterval(this.watchdog)
        ws.close(4000, 'coordinator silent')
        // A half-open TCP connection may never deliver the close handshake: reconnect now.
        ws.onclose?.(new CloseEvent('close', { code: 4000, reason: 'coordinator silent' }))
      }
    }, heartbeatMs)
  }

  /** false if there is no open connection (the coordinator has requeued the job by then). */
  send(msg: FromWorker): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false
    this.ws.send(JSON.stringify(msg))
    return true
  }
}
