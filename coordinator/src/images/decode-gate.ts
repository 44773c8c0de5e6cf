/**
 * At most `limit` pictures decoded at once, the others waiting in arrival order. libvips runs on libuv's
 * threads (4 by default) beside the coordinator's one JavaScript thread: a burst of uploads decoding 4 at a
 * time took a shared core from the thread that answers workers, and the pages sat idle ~90 % of the burst
 * (npm run bench -- --only endtoend, one-core worker VM with SHRINK_IMAGES=all). Waiting uploads only wait
 * for their 202; a worker's next job does not.
 */
export class DecodeGate {
  private running = 0
  private readonly waiting: (() => void)[] = []

  constructor(private readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError(`a decode gate lets at least 1 picture through, not ${limit}`)
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve))
    else this.running++
    try {
      return await work()
    } finally {
      // The slot passes straight to the next in line, so `running` never dips while some wait.
      const next = this.waiting.shift()
      if (next) next()
      else this.running--
    }
  }

  /** Decodes running and waiting (what the tests watch). */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length }
  }
}
