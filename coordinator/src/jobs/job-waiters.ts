/** Long-poll support: callers wait for a job id; `notify` wakes them when the job reaches a final state. */
export class JobWaiters {
  private readonly waiting = new Map<string, Set<() => void>>()

  /** Resolves true when notified, false on timeout or abort. */
  wait(id: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const set = this.waiting.get(id) ?? new Set()
      this.waiting.set(id, set)
      const done = (notified: boolean) => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        set.delete(wake)
        if (set.size === 0 && this.waiting.get(id) === set) this.waiting.delete(id)
        resolve(notified)
      }
      const wake = () => done(true)
      const onAbort = () => done(false)
      const timer = setTimeout(() => done(false), timeoutMs)
      signal?.addEventListener('abort', onAbort, { once: true })
      set.add(wake)
    })
  }

  notify(id: string): void {
    const set = this.waiting.get(id)
    if (set) for (const wake of [...set]) wake()
  }

  get size(): number {
    let n = 0
    for (const s of this.waiting.values()) n += s.size
    return n
  }
}
