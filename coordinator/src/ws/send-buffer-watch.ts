// A worker that stops reading (a hung tab, a frozen VM) leaves every job frame in its socket's send buffer.
// A burst is not that: a healthy worker with 16 slots and 10 MiB images is sent 160 MiB at once and reads it
// in a second or two. So the rule is "over the limit and nothing drained for a whole check", not "over the
// limit": memory is bounded anyway by slots × image size, since no new job goes out without a result.
export const MAX_BUFFERED_BYTES = 32 * 1024 * 1024
export const STALL_CHECK_MS = 1_000

/** Pure: whether a socket whose buffer went from `before` to `now`, while `sent` bytes were added, has stalled. */
export function sendBufferStalled(before: number, sent: number, now: number, limit = MAX_BUFFERED_BYTES): boolean {
  const drained = before + sent - now
  return now > limit && drained <= 0
}

/** Watches one socket's send buffer once it passes the limit; calls `stalled` if it stops draining. */
export class SendBufferWatch {
  private timer: ReturnType<typeof setInterval> | undefined
  private before = 0
  private sent = 0

  constructor(private readonly buffered: () => number, private readonly stalled: (bytes: number) => void) {}

  /** After each frame sent: `bytes` were just added to the buffer. */
  onSent(bytes: number): void {
    this.sent += bytes
    if (this.timer || this.buffered() <= MAX_BUFFERED_BYTES) return
    this.before = this.buffered()
    this.sent = 0
    this.timer = setInterval(() => this.check(), STALL_CHECK_MS)
    this.timer.unref()
  }

  private check(): void {
    const now = this.buffered()
    if (now <= MAX_BUFFERED_BYTES) return this.stop()
    if (sendBufferStalled(this.before, this.sent, now)) {
      this.stop()
      return this.stalled(now)
    }
    this.before = now
    this.sent = 0
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }
}
