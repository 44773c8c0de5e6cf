import { sessionName, signSessionToken } from '@hivesight/protocol/session-token'
import { chromium, type Browser, type Page } from 'playwright-core'

export interface PagePoolOptions {
  coordinatorUrl: string
  pages: number
  executablePath: string
  name: string
  log: (msg: string) => void
  /**
   * WORKER_TOKEN, the secret: it stays in this process. Each page gets its own session token derived from
   * it (one live session per token), handed over before the page loads, never in its URL.
   */
  token?: string
}

// No network but the coordinator: these switches stop Chromium's own background traffic.
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
  // A worker page must keep its full speed when nothing looks at it.
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows',
]

/**
 * N worker pages in one headless Chromium. A crashed page is reopened; if the browser itself dies, it is
 * launched again. Each page gets its own context (and renderer process), so one crash takes one slot.
 */
export class PagePool {
  private browser: Browser | undefined
  private readonly pages = new Set<Page>()
  private stopping = false
  private restarts = 0

  constructor(private readonly opts: PagePoolOptions) {}

  async start(): Promise<void> {
    const browser = await chromium.launch({ executablePath: this.opts.executablePath, headless: true, args: CHROMIUM_ARGS })
    this.browser = browser
    browser.on('disconnected', () => {
      if (this.stopping) return
      this.opts.log('chromium exited; launching it again')
      setTimeout(() => void this.start().catch((err) => this.opts.log(`relaunch failed: ${String(err)}`)), Math.min(10_000, 500 * 2 ** this.restarts++))
    })
    await Promise.all(Array.from({ length: this.opts.pages }, (_, i) => this.openPage(browser, i)))
    this.restarts = 0
  }

  pageUrl(i: number): string {
    const url = new URL('/worker', this.opts.coordinatorUrl)
    url.searchParams.set('kind', 'headless')
    url.searchParams.set('name', this.pageName(i))
    return url.toString()
  }

  pageName(i: number): string {
    return sessionName(`${this.opts.name}-${i + 1}`)
  }

  private async openPage(browser: Browser, i: number): Promise<void> {
    if (this.stopping || !browser.isConnected()) return
    const context = await browser.newContext()
    if (this.opts.token) {
      const token = signSessionToken(this.opts.token, { kind: 'worker', name: this.pageName(i), expires: 0 })
      await context.addInitScript(`window.__HIVESIGHT_WORKER_TOKEN__ = ${JSON.stringify(token)}`)
    }
    const page = await context.newPage()
    this.pages.add(page)
    page.on('close', () => this.pages.delete(page))
    page.on('crash', () => {
      this.opts.log(`page ${i + 1} crashed; opening it again`)
      void context.close().catch(() => undefined).then(() => this.openPage(browser, i))
    })
    page.on('pageerror', (err) => this.opts.log(`page ${i + 1}: ${err.message}`))
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') this.opts.log(`page ${i + 1} console: ${m.text()}`)
    })
    await this.gotoWithRetry(page, i)
  }

  /** The coordinator may not be up yet (or is restarting): keep trying with a capped backoff. */
  private async gotoWithRetry(page: Page, i: number): Promise<void> {
    for (let attempt = 0; !this.stopping; attempt++) {
      try {
        await page.goto(this.pageUrl(i), { waitUntil: 'load', timeout: 30_000 })
        await page.waitForFunction(() => document.getElementById('status')?.textContent?.includes('connected as'), undefined, { timeout: 120_000 })
        this.opts.log(`page ${i + 1} is ready and connected`)
        return
      } catch (err) {
        if (this.stopping || page.isClosed()) return
        const status = await page.locator('#status').textContent().catch(() => null)
        this.opts.log(`page ${i + 1} not ready (${status ?? (err instanceof Error ? err.message.split('\n')[0] : String(err))}); retrying`)
        await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** attempt)))
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
    await this.browser?.close().catch(() => undefined)
  }
}
