import { sessionName, signSessionToken } from '@hivesight/protocol/session-token'
import { chromium, type Browser } from 'playwright-core'
import { PageTargets } from './page-targets.ts'
import { relaunchDelay } from './runtime-sizing.ts'

export interface PagePoolOptions {
  coordinatorUrl: string
  pages: number
  /** wasm threads per page (the page runs one unless it is cross-origin isolated, which /worker is). */
  threads?: number
  /** Model versions a page keeps warm (?models=; the page's default is 4) and its wasm heap limit in MiB (?heapMb=, 256). */
  models?: number
  heapMb?: number
  executablePath: string
  name: string
  log: (msg: string) => void
  /**
   * WORKER_TOKEN, the secret: it stays in this process. Each page gets its own session token derived from
   * it (one live session per token), in its URL's #fragment, which no server and no log ever sees.
   */
  token?: string
  /**
   * A VM's own credential (npm run keys -- worker create): every page presents it, and the coordinator admits
   * as many pages as it allows. Preferred to `token` on a VM: it expires, is revoked, and names only this VM.
   */
  credential?: string
}

// No network but the coordinator: these switches stop Chromium's own background traffic and helpers.
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--disable-extensions',
  // One helper process fewer, for VMs of 1 GiB: the (software) compositor runs inside the browser process.
  // (No --enable/--disable-features here: Playwright passes its own lists, and a second one replaces them.)
  '--in-process-gpu',
  // A worker page must keep its full speed when nothing looks at it.
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows',
]

/** A browser that stayed up this long resets the back-off. */
const STABLE_MS = 60_000
/** A page that has not connected by then is closed and opened again. */
const CONNECT_TIMEOUT_MS = 120_000

/**
 * N worker pages in one headless Chromium, kept alive whatever happens to it: a crashed or stuck page is
 * reopened, and a browser that dies (during its launch, while serving, again and again) is launched again
 * with a capped back-off. Nothing here gives up; only stop() and drain() end it. Each page has its own
 * renderer process, so one crash takes one page.
 */
export class PagePool {
  private browser: Browser | undefined
  private targets: PageTargets | undefined
  /** Page slot → its current target. */
  private readonly slots = new Map<number, string>()
  private readonly pageFailures = new Map<number, number>()
  private stopping = false
  private failures = 0
  private running: Promise<void> | undefined
  /** End back-off waits early (stop() must not wait up to 10 s for them). */
  private readonly wakers = new Set<() => void>()
  private firstReady!: () => void
  private readonly ready = new Promise<void>((resolve) => (this.firstReady = resolve))

  constructor(private readonly opts: PagePoolOptions) {}

  /** Starts the pool; resolves once every page of a browser is connected to the coordinator. */
  start(): Promise<void> {
    this.running ??= this.supervise()
    return this.ready
  }

  private async supervise(): Promise<void> {
    while (!this.stopping) {
      const startedAt = Date.now()
      try {
        await this.serveOnce()
      } catch (err) {
        if (this.stopping) return
        this.opts.log(`chromium failed: ${firstLine(err)}`)
      }
      if (this.stopping) return
      if (Date.now() - startedAt > STABLE_MS) this.failures = 0
      const delay = relaunchDelay(this.failures++)
      this.opts.log(`chromium is gone; launching it again in ${(delay / 1000).toFixed(1)} s`)
      await this.sleep(delay)
    }
  }

  /** One browser's life: launch, open the pages, wait until it disconnects. Throws if it cannot get there. */
  private async serveOnce(): Promise<void> {
    const browser = await chromium.launch({
      executablePath: this.opts.executablePath, headless: true, args: CHROMIUM_ARGS, timeout: 60_000,
      // Signals are ours: a SIGTERM drains the pages before the browser closes.
      handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false,
    })
    this.browser = browser
    const disconnected = new Promise<void>((resolve) => browser.on('disconnected', () => resolve()))
    try {
      if (this.stopping) return
      this.slots.clear()
      const targets = await PageTargets.of(await browser.newBrowserCDPSession(), {
        crashed: (id) => this.pageGone(targets, id, 'crashed'),
        destroyed: (id) => this.pageGone(targets, id, 'closed'),
      })
      this.targets = targets
      await Promise.race([Promise.all(Array.from({ length: this.opts.pages }, (_, i) => this.openPage(targets, i))), disconnected])
      if (browser.isConnected()) this.firstReady()
      await disconnected
    } finally {
      // Whatever went wrong, never leave a browser behind before launching the next one.
      if (browser.isConnected()) await browser.close().catch(() => undefined)
      if (this.browser === browser) this.browser = undefined
    }
  }

  pageUrl(i: number): string {
    const url = new URL('/worker', this.opts.coordinatorUrl)
    url.searchParams.set('kind', 'headless')
    url.searchParams.set('name', this.pageName(i))
    if (this.opts.threads) url.searchParams.set('threads', String(this.opts.threads))
    if (this.opts.models) url.searchParams.set('models', String(this.opts.models))
    if (this.opts.heapMb) url.searchParams.set('heapMb', String(this.opts.heapMb))
    if (this.opts.credential) url.hash = `token=${this.opts.credential}`
    else if (this.opts.token) url.hash = `token=${signSessionToken(this.opts.token, { kind: 'worker', name: this.pageName(i), expires: 0 })}`
    return url.toString()
  }

  pageName(i: number): string {
    return sessionName(`${this.opts.name}-${i + 1}`)
  }

  /** Opens page slot i and waits until it is connected; a page that does not get there is replaced. */
  private async openPage(targets: PageTargets, i: number): Promise<void> {
    if (this.stopping || !this.browser?.isConnected()) return
    const id = await targets.open(this.pageUrl(i))
    this.slots.set(i, id)
    const deadline = Date.now() + CONNECT_TIMEOUT_MS
    let title: string | undefined
    while (!this.stopping && this.slots.get(i) === id && Date.now() < deadline) {
      title = await targets.title(id)
      if (title?.includes('· connected ·')) {
        this.pageFailures.set(i, 0)
        const status = await targets.evaluate(id, 'document.getElementById("status")?.textContent', 5_000).catch(() => title)
        this.opts.log(`page ${i + 1} is ready: ${String(status).split(' · ').slice(1).join(' · ')}`)
        return
      }
      // The page gave up (no wasm backend, no model): say why now, and start it over after a back-off.
      if (title?.includes('· failed:') && !this.stopping) {
        this.opts.log(`page ${i + 1} ${title.split(' · ').slice(1, -1).join(' · ')}; opening it again`)
        return targets.close(id)
      }
      await this.sleep(250)
    }
    if (this.stopping || this.slots.get(i) !== id) return
    this.opts.log(`page ${i + 1} not connected after ${CONNECT_TIMEOUT_MS / 1000} s (${title ?? 'no title'}); opening it again`)
    // Closing it fires pageGone, which opens the slot again.
    await targets.close(id)
  }

  /** A page crashed or was closed: open its slot again after a back-off of its own. */
  private pageGone(targets: PageTargets, targetId: string, why: string): void {
    const slot = [...this.slots].find(([, id]) => id === targetId)?.[0]
    if (slot === undefined || this.stopping || this.targets !== targets) return
    this.slots.delete(slot)
    const failures = this.pageFailures.get(slot) ?? 0
    this.pageFailures.set(slot, failures + 1)
    const delay = relaunchDelay(failures)
    this.opts.log(`page ${slot + 1} ${why}; opening it again in ${(delay / 1000).toFixed(1)} s`)
    if (why === 'crashed') void targets.close(targetId)
    void this.sleep(delay).then(() => this.openPage(targets, slot)).catch((err) => this.opts.log(`page ${slot + 1} could not be opened: ${firstLine(err)}`))
  }

  /**
   * Graceful stop: every page takes nothing new, hands back what it has not started and finishes what it
   * runs, within `graceMs`; then the browser closes (anything still held is requeued on disconnect).
   */
  async drain(graceMs: number): Promise<void> {
    this.stopping = true
    this.wakeAll()
    const targets = this.targets
    if (targets) {
      await Promise.all([...this.slots.values()].map((id) => targets.evaluate(id, 'window.hivesightDrain?.()', graceMs).catch(() => undefined)))
    }
    await this.stop()
  }

  async stop(): Promise<void> {
    this.stopping = true
    this.wakeAll()
    await this.browser?.close().catch(() => undefined)
    await this.running?.catch(() => undefined)
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer)
        this.wakers.delete(wake)
        resolve()
      }
      const timer = setTimeout(wake, ms)
      this.wakers.add(wake)
    })
  }

  private wakeAll(): void {
    for (const wake of [...this.wakers]) wake()
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? ''
}
