import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { REPO_ROOT } from '@hivesight/coordinator'
import type { JobView, SubmitResponse } from '@hivesight/protocol'
import { findChromium } from '@hivesight/worker-runtime/chromium-path'
import { CHROMIUM_ARGS, type PagePool } from '@hivesight/worker-runtime/page-pool'
import { chromium, type Browser, type Page } from 'playwright-core'
import { readLabelledDataset, spreadSample } from '../src/dataset/labelled-dataset.ts'
import { startHeadlessWorkers, startLocalCoordinator, until, type LocalCoordinator } from '../src/harness/local-system.ts'

// The dashboard's URLs in real Chromium against a real coordinator with a real headless worker: a job's link
// opens it in a fresh page, back and forward move between screens, the job board's filter survives a reload,
// and the Overview opens with the figures of the minutes before the page did (the coordinator's history).
// Screenshots: docs/dashboard/overview.png and docs/dashboard/job-link.png.
const DATASET = process.env.DATASET_DIR ?? resolve(REPO_ROOT, '../shared/datasets/imagenet-val-dev')
const DOCS = resolve(REPO_ROOT, 'docs/dashboard')
const T = { timeout: 120_000 }
const STATS_MS = 2_000

let system: LocalCoordinator
let workers: PagePool | undefined
let browser: Browser
let page: Page
let startedAt = 0
const images = spreadSample(readLabelledDataset(DATASET), 9).map((i) => i.path)
const ids: string[] = []
const cspViolations: string[] = []

const api = async <T>(path: string): Promise<T> => (await (await fetch(`${system.url}${path}`)).json()) as T
const hashOf = (p: Page) => new URL(p.url()).hash
const nav = (p: Page, name: string) => p.getByRole('navigation').getByRole('link', { name: new RegExp(`^${name}`) })
const heading = (p: Page, name: string | RegExp) => p.getByRole('heading', { level: 2, name })

async function submit(paths: string[]): Promise<string[]> {
  const form = new FormData()
  for (const p of paths) form.append('image', new Blob([readFileSync(p)], { type: 'image/jpeg' }), basename(p))
  const res = await fetch(`${system.url}/api/v1/jobs`, { method: 'POST', body: form })
  assert.equal(res.status, 202, await res.clone().text())
  return ((await res.json()) as SubmitResponse).jobs.map((j) => j.id)
}

async function freshPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } })
  const p = await context.newPage()
  p.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()) })
  return p
}

before(async () => {
  startedAt = Date.now()
  system = await startLocalCoordinator()
  workers = await startHeadlessWorkers(system.url, 1)
  // Three batches a few ticks apart, so the charts have a shape before any page opens.
  const firstBatch = Date.now()
  for (let b = 0; b < 3; b++) {
    if (b > 0) await new Promise((r) => setTimeout(r, 3 * STATS_MS))
    ids.push(...(await submit(images.slice(3 * b, 3 * b + 3))))
  }
  await until(async () => (await Promise.all(ids.map((id) => api<JobView>(`/api/v1/jobs/${id}`)))).every((j) => j.status === 'succeeded'), 60_000, 'nine jobs to succeed')
  // Half a minute of figures (a dozen stat periods), none of them seen by a page.
  await until(() => Date.now() - firstBatch > 15 * STATS_MS, 60_000, 'fifteen stat periods')
  browser = await chromium.launch({ executablePath: findChromium(), headless: true, args: CHROMIUM_ARGS })
}, { timeout: 120_000 })

after(async () => {
  await browser?.close()
  await workers?.stop()
  await system?.close()
})

test('the Overview opens with the figures of the minutes before the page did, on a real time axis', T, async () => {
  const p = await freshPage()
  const opened = Date.now()
  await p.goto(system.url)
  await p.getByRole('status').filter({ hasText: 'live' }).waitFor({ timeout: 10_000 })
  assert.equal(hashOf(p), '#/overview', 'no hash is the overview, and the URL says so')
  assert.equal(await nav(p, 'Overview').getAttribute('aria-current'), 'page')
  // Sent with `ready`: well within one 2 s tick of the stream going live, several points are there.
  const charts = p.locator('figure.chart')
  await p.waitForFunction(() => [...document.querySelectorAll<HTMLElement>('figure.chart')].every((f) => Number(f.dataset['points']) >= 10), null, { timeout: 1_000 })
  assert.equal(await charts.count(), 3)
  for (const chart of await charts.all()) {
    const [points, first, last] = await Promise.all(['data-points', 'data-first', 'data-last'].map((a) => chart.getAttribute(a)).map(async (v) => Number(await v)))
    assert.ok(points! >= 10, `${points} points`)
    assert.ok(first! < opened - 2 * STATS_MS, `the first point (${new Date(first!).toISOString()}) is from before the page opened (${new Date(opened).toISOString()})`)
    assert.ok(first! >= startedAt && last! > first!, 'from this coordinator\'s life, oldest first')
    const plot = chart.locator('[data-ticks]')
    await plot.waitFor({ timeout: 2_000 })
    const ticks = (await plot.getAttribute('data-ticks'))!.match(/\d\d:\d\d:\d\d/g) ?? []
    assert.ok(ticks.length >= 2, `tick labels: ${await plot.getAttribute('data-ticks')}`)
    assert.doesNotMatch((await plot.getAttribute('data-ticks'))!, /12:00:00 AM|AM|PM/, 'hh:mm:ss on a 24-hour clock, not the epoch')
    const [min, max] = (await plot.getAttribute('data-range'))!.split(' ').map(Number)
    assert.ok(min! <= first! && max! >= last! - 1 && max! - min! >= 60_000, `the axis spans the points and a minute at least: ${min}..${max}`)
    assert.ok(min! > opened - 16 * 60_000, 'not a degenerate axis around the epoch')
  }
  assert.match((await charts.first().locator('[role="img"]').getAttribute('aria-label'))!, /\d+ points over \d+ min since \d\d:\d\d:\d\d/)
  console.log(`# dashboard routes: ${await charts.first().getAttribute('data-points')} points on the Overview at first paint; ticks ${await charts.first().locator('[data-ticks]').getAttribute('data-ticks')}`)
  await p.screenshot({ path: resolve(DOCS, 'overview.png') })
  await p.context().close()
})

test('a job\'s link (#/jobs/<id>) opens that job in a fresh page', T, async () => {
  page = await freshPage()
  const id = ids[0]!
  const job = await api<JobView>(`/api/v1/jobs/${id}`)
  await page.goto(`${system.url}/#/jobs/${id}`)
  await heading(page, job.filename!).waitFor({ timeout: 10_000 })
  assert.equal(await page.locator('.detail code.id').innerText(), id)
  assert.equal(await page.locator('.bars li.top .bar-label').innerText(), job.result?.predictions[0]?.label)
  assert.equal(await nav(page, 'Jobs').getAttribute('aria-current'), 'location', 'within Jobs, not the board itself')
  await page.screenshot({ path: resolve(DOCS, 'job-link.png') })
})

test('the nav is links; back and forward move between the job and Workers; ← Back from a link opens the board', T, async () => {
  const id = ids[0]!
  const filename = (await api<JobView>(`/api/v1/jobs/${id}`)).filename!
  assert.equal(await page.getByRole('navigation').getByRole('button').count(), 0, 'no buttons in the nav')
  assert.equal(await nav(page, 'Workers').getAttribute('href'), '#/workers')
  await nav(page, 'Workers').click()
  await heading(page, 'Workers').waitFor({ timeout: 5_000 })
  assert.equal(hashOf(page), '#/workers')
  assert.equal(await nav(page, 'Workers').getAttribute('aria-current'), 'page')
  await page.goBack()
  await heading(page, filename).waitFor({ timeout: 5_000 })
  assert.equal(hashOf(page), `#/jobs/${id}`)
  await page.goForward()
  await heading(page, 'Workers').waitFor({ timeout: 5_000 })
  assert.equal(hashOf(page), '#/workers')
  await page.goBack()
  await heading(page, filename).waitFor({ timeout: 5_000 })
  // This page started at the job: there is nothing of the dashboard to go back to, so the board opens.
  await page.getByRole('button', { name: '← Back' }).click()
  await heading(page, 'Jobs').waitFor({ timeout: 5_000 })
  assert.equal(hashOf(page), '#/jobs')
  // From the board, a job's name is a link to it, and ← Back returns to the board (history.back).
  await page.locator(`tr[data-job="${ids[1]!}"]`).getByRole('link').click()
  await page.locator('.detail code.id').filter({ hasText: ids[1]! }).waitFor({ timeout: 5_000 })
  await page.getByRole('button', { name: '← Back' }).click()
  await heading(page, 'Jobs').waitFor({ timeout: 5_000 })
  await page.goForward()
  await page.locator('.detail code.id').filter({ hasText: ids[1]! }).waitFor({ timeout: 5_000 })
})

test('the job board\'s filter lives in the URL: a reload keeps it, back undoes a status', T, async () => {
  await nav(page, 'Jobs').click()
  await heading(page, 'Jobs').waitFor({ timeout: 5_000 })
  const shown = page.locator('.toolbar .muted')
  await shown.filter({ hasText: `of ${ids.length} shown` }).waitFor({ timeout: 5_000 })
  await page.getByLabel('Status').selectOption('failed')
  await until(() => hashOf(page) === '#/jobs?status=failed', 5_000, 'the status in the URL')
  await shown.filter({ hasText: `0 of ${ids.length} shown` }).waitFor({ timeout: 5_000 })
  await page.reload()
  await shown.filter({ hasText: `0 of ${ids.length} shown` }).waitFor({ timeout: 10_000 })
  assert.equal(await page.getByLabel('Status').inputValue(), 'failed', 'still filtered after the reload')
  assert.equal(hashOf(page), '#/jobs?status=failed')

  const wanted = basename(images[4]!)
  await page.getByLabel('Status').selectOption('succeeded')
  await page.getByLabel('Search').fill(wanted)
  await until(() => hashOf(page) === `#/jobs?status=succeeded&q=${encodeURIComponent(wanted)}`, 5_000, `the search in the URL (${hashOf(page)})`)
  await shown.filter({ hasText: `1 of ${ids.length} shown` }).waitFor({ timeout: 5_000 })
  await page.reload()
  await shown.filter({ hasText: `1 of ${ids.length} shown` }).waitFor({ timeout: 10_000 })
  assert.equal(await page.getByLabel('Search').inputValue(), wanted)
  assert.equal(await page.locator('tr[data-job]').count(), 1)
  // The Jobs link keeps the filter while the user looks elsewhere.
  await nav(page, 'Overview').click()
  assert.equal(await nav(page, 'Jobs').getAttribute('href'), `#/jobs?status=succeeded&q=${encodeURIComponent(wanted)}`)
  await page.goBack()
  await shown.filter({ hasText: `1 of ${ids.length} shown` }).waitFor({ timeout: 5_000 })
  await page.goBack()
  await until(() => hashOf(page) === '#/jobs?status=failed', 5_000, `back to the previous status (${hashOf(page)})`)
  assert.equal(await page.getByLabel('Status').inputValue(), 'failed')
  assert.equal(await page.getByLabel('Search').inputValue(), '')
})

test('an unknown route says so, with a link home', T, async () => {
  await page.goto(`${system.url}/#/no-such-screen`)
  await heading(page, 'Not found').waitFor({ timeout: 5_000 })
  assert.match(await page.locator('.not-found').innerText(), /\/no-such-screen/)
  assert.equal(await page.locator('nav a[aria-current]').count(), 0, 'no nav entry is current')
  await page.getByRole('link', { name: 'Go to the overview' }).click()
  await heading(page, 'Overview').waitFor({ timeout: 5_000 })
  assert.equal(hashOf(page), '#/overview')
  assert.deepEqual(cspViolations, [], 'no Content-Security-Policy violations')
})
