interface Status { phase: string; connected: boolean; workerId: string; backend: string }

/** Counts are shown at most this often: each DOM and title change costs the browser and compositor processes work. */
const COUNT_REFRESH_MS = 1_000

/**
 * The page's one line of status, also read by the runtime ("connected as …") and shown in the tab title.
 * Phase changes show at once; job counts at most once a second (at 60 results/s a render per result kept
 * Chromium's browser and GPU processes busy with a fifth of a core).
 */
export class StatusLine {
  private state: Status = { phase: 'starting', connected: false, workerId: '', backend: '' }
  private done = 0
  private failed = 0
  private pending: ReturnType<typeof setTimeout> | undefined

  constructor(private readonly el: HTMLElement) {}

  update(change: Partial<Status>): void {
    this.state = { ...this.state, ...change }
    this.render()
  }

  count(succeeded: boolean): void {
    if (succeeded) this.done++
    else this.failed++
    this.pending ??= setTimeout(() => this.render(), COUNT_REFRESH_MS)
  }

  private render(): void {
    clearTimeout(this.pending)
    this.pending = undefined
    const s = this.state
    this.el.textContent = [
      s.phase,
      s.connected ? `connected as ${s.workerId.slice(-8)}` : 'not connected',
      `${this.done} jobs done${this.failed ? `, ${this.failed} failed` : ''}`,
      s.backend,
    ].filter(Boolean).join(' · ')
    // The runtime reads the title (it does not attach to its pages): "· connected ·" means ready.
    document.title = `Hivesight worker · ${s.connected ? 'connected' : s.phase} · ${this.done} done`
  }
}
