import type { FromCoordinator, WorkerHello } from '@hivesight/protocol'

/** How the services reach one connected worker; the socket layer implements it. */
export interface WorkerChannel {
  /** A binary job.assign frame; false when the socket is closing. */
  sendFrame(frame: Uint8Array): boolean
  sendMessage(msg: FromCoordinator): boolean
  close(code: number, reason: string): void
}

export interface HeldJob {
  token: number
  leaseExpiresAt: number
  submittedAt: number
}

export interface LiveWorker {
  id: string
  hello: WorkerHello
  slots: number
  /** Jobs leased to this worker and not answered yet. */
  inFlight: Map<string, HeldJob>
  /** A draining worker gets nothing new. */
  draining: boolean
  channel: WorkerChannel
}

/** Workers connected to this coordinator process, and the jobs each one holds right now. */
export class WorkerRegistry {
  private readonly workers = new Map<string, LiveWorker>()

  add(w: LiveWorker): void {
    this.workers.set(w.id, w)
  }
  remove(id: string): LiveWorker | undefined {
    const w = this.workers.get(id)
    this.workers.delete(id)
    return w
  }
  get(id: string): LiveWorker | undefined {
    return this.workers.get(id)
  }
  all(): IterableIterator<LiveWorker> {
    return this.workers.values()
  }
  ids(): string[] {
    return [...this.workers.keys()]
  }
  get size(): number {
    return this.workers.size
  }
  get inFlight(): number {
    let n = 0
    for (const w of this.workers.values()) n += w.inFlight.size
    return n
  }
  freeSlots(): { workerId: string; free: number }[] {
    const out: { workerId: string; free: number }[] = []
    for (const w of this.workers.values()) {
      const free = w.draining ? 0 : w.slots - w.inFlight.size
      if (free > 0) out.push({ workerId: w.id, free })
    }
    return out
  }
}
