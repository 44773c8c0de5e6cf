import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { REPO_ROOT } from '@hivesight/coordinator'
import type { JobView } from '@hivesight/protocol'
import { findChromium } from '@hivesight/worker-runtime/chromium-path'
import { CHROMIUM_ARGS, type PagePool } from '@hivesight/worker-runtime/page-pool'
import { chromium, type Browser, type Page } from 'playwright-core'
import { readLabelledDataset, spreadSample } from '../src/dataset/labelled-dataset.ts'
import { startHeadlessWorkers, startLocalCoordinator, until, type LocalCoordinator } from '../src/harness/local-system.ts'

// The dashboard in real Chromium against a real coordinator with a real headless worker (the model too).
// Screenshots of every screen go to evaluation/results/dashboard/ (not committed; docs/dashboard/ has copies).
const DATASET = process.env.DATASET_DIR ?? resolve(REPO_ROOT, '../shared/datasets/imagenet-val-dev')
const SHOTS = resolve(REPO_ROOT, 'evaluation/results/dashboard')
const T = { timeout: 120_000 }

let system: LocalCoordinator
let workers: PagePool | undefined
let browser: Browser
let page: Page
const images = spreadSample(readLabelledDataset(DATASET), 9).map((i) => i.path)
const apiRequests: string[] = []
const cspViolations: string[] = []
let navigations = 0

const shot = (name: string) => page.screenshot({ path: resolve(SHOTS, `${name}.png`) })
// The nav is links (#/workers, …; see dashboard-routes.test.ts for what the URLs do).
const screen = (name: string) => page.getByRole('navigation').getByRole('link', { name: new RegExp(`^${name}`) }).click()

before(async () => {
  mkdirSync(SHOTS, { recursive: true })
  // A private deployment that believes its volunteers (VOLUNTEER_POLICY=accept): the volunteer step has this
  // tab as its only worker. The default quorum is shown with real browsers in volunteer-browsers.test.ts.
  system = await startLocalCoordinator({ VOLUNTEER_POLICY: 'accept' })
  browser = await chromium.launch({ executablePath: findChromium(), headless: true, args: CHROMIUM_ARGS })
  page = await browser.newPage({ viewport: { width: 1100, height: 760 } })
  page.on('request', (r) => { if (new URL(r.url()).pathname.startsWith('/api/')) apiRequests.push(`${r.method()} ${new URL(r.url()).pathname}`) })
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()) })
  // Page loads only: following a nav link changes the hash, a same-document navigation, not a reload.
  page.on('load', () => { navigations++ })
  await page.goto(system.url)
  await page.getByRole('status').filter({ hasText: 'live' }).waitFor({ timeout: 10_000 })
})

after(async () => {
  await browser?.close()
  await workers?.stop()
  await system?.close()
})

test('served with a strict CSP (no inline script, frame-ancestors none) and cross-origin isolated', T, async () => {
  const res = await fetch(system.url)
  const csp = res.headers.get('content-security-policy') ?? ''
  assert.match(csp, /script-src 'self'(;|$)/)
  assert.match(csp, /frame-ancestors 'none'/)
  assert.equal(res.headers.get('cross-origin-embedder-policy'), 'require-corp')
  assert.doesNotMatch(await res.text(), /<script>(?!<\/script>)|<script(?![^>]*src=)[^>]*>/, 'no inline script')
})

test('a headless worker appears on the Workers screen without a reload', T, async () => {
  await screen('Workers')
  await page.getByText('No workers connected').waitFor({ timeout: 5_000 })
  workers = await startHeadlessWorkers(system.url, 1)
  await page.locator('tr[data-worker]').first().waitFor({ timeout: 60_000 })
  assert.match(await page.locator('tr[data-worker]').first().innerText(), /headless\s+trusted/)
})

test('dropped images go from queued to succeeded live; the detail shows the same top label as the API', T, async () => {
  await screen('Submit')
  // Every status a file's row shows, in order, recorded in the page as it changes.
  await page.evaluate(() => {
    const seen: Record<string, string[]> = {}
    ;(window as unknown as { seen: typeof seen }).seen = seen
    new MutationObserver(() => {
      for (const li of document.querySelectorAll<HTMLElement>('.uploads li[data-job]')) {
        const [id, state] = [li.dataset.job!, li.querySelector('.state')?.textContent ?? '']
        const list = (seen[id] ??= [])
        if (list.at(-1) !== state) list.push(state)
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true })
  })
  await page.locator('#files').setInputFiles(images.slice(0, 6))
  await until(async () => (await page.locator('.uploads li.succeeded').count()) === 6, 60_000, 'six files to succeed on the Submit screen')
  const seen = await page.evaluate(() => (window as unknown as { seen: Record<string, string[]> }).seen)
  assert.equal(Object.keys(seen).length, 6)
  for (const [id, states] of Object.entries(seen)) {
    assert.equal(states.at(-1), 'succeeded', `${id}: ${states.join(' → ')}`)
    assert.ok(states.includes('queued') || states.includes('running'), `${id} was seen before it finished: ${states.join(' → ')}`)
  }
  assert.equal(navigations, 1, 'no reload')
  await shot('submit')

  await screen('Jobs')
  await until(async () => (await page.locator('tr[data-job] .status.succeeded').count()) === 6, 10_000, 'six succeeded rows')
  await shot('jobs')
  const row = page.locator('tr[data-job]').first()
  const id = (await row.getAttribute('data-job'))!
  await row.getByRole('link').first().click()
  const top = await page.locator('.bars li.top .bar-label').innerText()
  const viaApi = (await (await fetch(`${system.url}/api/v1/jobs/${id}`)).json()) as JobView
  assert.equal(top, viaApi.result?.predictions[0]?.label)
  console.log(`# dashboard: job ${id} top label "${top}"`)
  await shot('job-detail')
  await page.getByRole('button', { name: '← Back' }).click()
})

test('idle: the board asks the API nothing (no polling)', T, async () => {
  await screen('Overview')
  // Totals are counted every other 2 s tick.
  await page.waitForTimeout(5_000)
  await shot('overview')
  await screen('Jobs')
  const before = apiRequests.length
  await page.waitForTimeout(10_000)
  const idle = apiRequests.slice(before)
  console.log(`# dashboard: ${idle.length} API requests in 10 idle seconds${idle.length ? `: ${idle.join(', ')}` : ''}`)
  assert.deepEqual(idle, [])
})

test('the worker leaves; a queued job is canceled from the board', T, async () => {
  await screen('Workers')
  await shot('workers')
  await workers!.stop()
  workers = undefined
  await page.getByText('No workers connected').waitFor({ timeout: 15_000 })
  await screen('Submit')
  await page.locator('#files').setInputFiles(images.slice(6, 7))
  await screen('Jobs')
  const queued = page.locator('tr[data-job]').filter({ has: page.locator('.status.queued') }).first()
  await queued.waitFor({ timeout: 10_000 })
  const id = (await queued.getAttribute('data-job'))!
  await queued.getByRole('button', { name: /^Cancel/ }).click()
  await page.locator(`tr[data-job="${id}"] .status.canceled`).waitFor({ timeout: 10_000 })
  assert.equal(((await (await fetch(`${system.url}/api/v1/jobs/${id}`)).json()) as JobView).status, 'canceled')
})

test('"Volunteer this tab" makes this tab a worker that classifies the next uploads', T, async () => {
  await screen('Volunteer')
  await page.getByRole('button', { name: 'Volunteer this tab' }).click()
  await page.frameLocator('iframe.worker-frame').locator('#status').filter({ hasText: 'connected as' }).waitFor({ timeout: 90_000 })
  await shot('volunteer')
  await screen('Submit')
  await page.getByRole('button', { name: 'Clear finished' }).click()
  await page.locator('#files').setInputFiles(images.slice(7, 9))
  await until(async () => (await page.locator('.uploads li.succeeded').count()) === 2, 60_000, 'two files classified by the volunteer tab')
  await screen('Workers')
  const volunteer = page.locator('tr[data-worker]').filter({ hasText: 'browser' })
  await until(async () => /browser\s+untrusted.*\s2\s/s.test(await volunteer.innerText().catch(() => '')), 10_000, 'the volunteer tab listed with 2 jobs done')
  assert.deepEqual(cspViolations, [], 'no Content-Security-Policy violations')
})

test('phone-sized screens', T, async () => {
  await page.setViewportSize({ width: 390, height: 844 })
  await screen('Jobs')
  await shot('phone-jobs')
  await screen('Overview')
  await shot('phone-overview')
})
