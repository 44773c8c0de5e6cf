/** A progress line for long runs: redrawn in place on a terminal, a line every 2 s otherwise (CI logs). */
export class Progress {
  done = 0
  private readonly started = performance.now()
  private lastPrint = 0

  constructor(private readonly total: number, private readonly out: NodeJS.WriteStream = process.stderr) {}

  tick(note = ''): void {
    this.done++
    const now = performance.now()
    if (this.done < this.total && now - this.lastPrint < (this.out.isTTY ? 100 : 2_000)) return
    this.lastPrint = now
    const width = 30
    const filled = Math.round((width * this.done) / this.total)
    const rate = this.done / ((now - this.started) / 1000)
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total} · ${rate.toFixed(1)}/s${note ? ` · ${note}` : ''}`
    if (this.out.isTTY) this.out.write(`\r${line}\x1b[K`)
    else this.out.write(`${line}\n`)
  }

  end(): void {
    if (this.out.isTTY) this.out.write('\n')
  }
}
