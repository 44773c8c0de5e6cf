import { sessionName, signSessionToken } from '@hivesight/protocol/session-token'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { relaunchDelay } from './runtime-sizing.ts'

export interface PagePoolOptions {
  coordinatorUrl: string
  pages: number
  /** wasm threads per page (the page runs one unless it is cross-origin isolated, which /worker is). */
  threads?: number
  executablePath: string
  name: string
  log: (msg: string) => void
  /**
   * WORKER_TOKEN, the secret: it stays in this process. Each page gets its own session token derived from
   * it (one live session per token), handed over before the page loads, never in its URL.
   */
  token?: string
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

/**
 * N worker pages in one headless Chromium, kept alive whatever happens to it: a crashed page is reopened,
 * and a browser that dies (during its launch, while serving, again and again) is launched again with a
 * capped back-off. Nothing here gives up; only stop() and drain() end it. Each page has its own renderer
 * process, so one crash takes one page.
 */
export class PagePool {
  private browser: Browser | undefined
  private readonly pages = new Set<Page>()
  private stopping = false
  private failures = 0
  private running: Promise<void> | undefined
  /** Ends a back-off wait early (stop() must not wait up to 10 s for it). */
  private wake: (() => void) | undefined
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
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay)
        this.wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
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
      // One context (one headless window) for all pages: each page still gets a renderer process of its
      // own, while a context per page cost a window's UI renderer (~50 MiB) per page.
      const context = await browser.newContext()
      await Promise.race([Promise.all(Array.from({ length: this.opts.pages }, (_, i) => this.openPage(context, i))), disconnected])
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
    return url.toString()
  }

  pageName(i: number): string {
    return sessionName(`${this.opts.name}-${i + 1}`)
  }

  private async openPage(context: BrowserContext, i: number): Promise<void> {
    if (this.stopping || !context.browser()?.isConnected()) return
    const page = await context.newPage()
    if (this.opts.token) {
      const token = signSessionToken(this.opts.token, { kind: 'worker', name: this.pageName(i), expires: 0 })
      await page.addInitScript(`window.__HIVESIGHT_WORKER_TOKEN__ = ${JSON.stringify(token)}`)
    }
    this.pages.add(page)
    page.on('close', () => this.pages.delete(page))
    page.on('crash', () => {
      this.opts.log(`page ${i + 1} crashed; opening it again`)
      void page.close().catch(() => undefined)
        .then(() => this.openPage(context, i))
        .catch((err) => this.opts.log(`page ${i + 1} could not be reopened: ${firstLine(err)}`))
    })
    page.on('pageerror', (err) => this.opts.log(`page ${i + 1}: ${err.message}`))
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') this.opts.log(`page ${i + 1} console: ${m.text()}`)
    })
    await this.gotoWithRetry(page, i)
  }

  /** The coordinator may not be up yet (or is restarting): keep trying with a capped backoff. */
  private async gotoWithRetry(page: Page, i: number): Promise<void> {
    for (let attempt = 0; !this.stopping && !page.isClosed(); attempt++) {
      try {
        await page.goto(this.pageUrl(i), { waitUntil: 'load', timeout: 30_000 })
        await page.waitForFunction(() => document.getElementById('status')?.textContent?.includes('connected as'), undefined, { timeout: 120_000 })
        const status = await page.locator('#status').textContent().catch(() => '')
        this.opts.log(`page ${i + 1} is ready: ${status?.split(' · ').slice(1).join(' · ')}`)
        return
      } catch (err) {
        if (this.stopping || page.isClosed()) return
        const status = await page.locator('#status').textContent({ timeout: 1_000 }).catch(() => null)
        this.opts.log(`page ${i + 1} not ready (${status ?? firstLine(err)}); retrying`)
        await new Promise((r) => setTimeout(r, relaunchDelay(attempt)))
      }
    }
  }

  /**
   * Graceful stop: every page takes nothing new, hands back what it has not started and finishes what it
   * runs, within `graceMs`; then the browser closes (anything still held is requeued on disconnect).
   */
  async drain(graceMs: number): Promise<void> {
    this.stopping = true
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref())
    const drained = Promise.all([...this.pages].map((p) => p.evaluate(() => window.hivesightDrain?.()).catch(() => undefined)))
    await Promise.race([drained, timeout])
    await this.stop()
  }

  async stop(): Promise<void> {
    this.stopping = true
    this.wake?.()
    await this.browser?.close().catch(() => undefined)
    await this.running?.catch(() => undefined)
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? ''
}
