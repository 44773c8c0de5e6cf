interface Status { phase: string; connected: boolean; workerId: string; backend: string }

/** The page's one line of status, also read by the runtime ("connected as …") and shown in the tab title. */
export class StatusLine {
  private state: Status = { phase: 'starting', connected: false, workerId: '', backend: '' }
  private done = 0
  private failed = 0

  constructor(private readonly el: HTMLElement) {}

  update(change: Partial<Status>): void {
    this.state = { ...this.state, ...change }
    this.render()
  }

  count(succeeded: boolean): void {
    if (succeeded) this.done++
    else this.failed++
    this.render()
  }

  private render(): void {
    const s = this.state
    this.el.textContent = [
      s.phase,
      s.connected ? `connected as ${s.workerId.slice(-8)}` : 'not connected',
      `${this.done} jobs done${this.failed ? `, ${this.failed} failed` : ''}`,
      s.backend,
    ].filter(Boolean).join(' · ')
    document.title = `Hivesight worker · ${this.done} done`
  }
}
