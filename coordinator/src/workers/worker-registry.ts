import type { WorkerHello } from '@hivesight/protocol'

/** How the job service reaches one connected worker; the socket layer implements it. */
export interface WorkerChannel {
  /** false when the frame could not be queued (socket closing). */
  send(frame: Uint8Array): boolean
  close(code: number, reason: string): void
}

export interface LiveWorker {
  id: string
  hello: WorkerHello
  slots: number
  inFlight: Set<string>
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
  ids(): string[] {
    return [...this.workers.keys()]
  }
  get size(): number {
    return this.workers.size
  }
  freeSlots(): { workerId: string; free: number }[] {
    const out: { workerId: string; free: number }[] = []
    for (const w of this.workers.values()) {
      const free = w.slots - w.inFlight.size
      if (free > 0) out.push({ workerId: w.id, free })
    }
    return out
  }
}
