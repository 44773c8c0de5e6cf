import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { REPO_ROOT } from '@hivesight/coordinator'
import type { ModelView } from '@hivesight/protocol'
import { findChromium } from '@hivesight/worker-runtime/chromium-path'
import { CHROMIUM_ARGS, type PagePool } from '@hivesight/worker-runtime/page-pool'
import { chromium, type Browser, type Locator, type Page } from 'playwright-core'
import { startHeadlessWorkers, startLocalCoordinator, until, type LocalCoordinator } from '../src/harness/local-system.ts'
import { colourPicture, uploadModel, waitForState } from '../src/models/model-upload.ts'
import { makeTeachableModel } from '../../coordinator/test/support/teachable-model.ts'

// The Models screen in real Chromium against a real coordinator with one real headless worker page: what a
// user sees of the built-in model, of an upload through the screen's own form (validating → ready, the
// page's smoke test), of a refused upload (the 422's problems in words), and of moving the default label.
// The screenshot is docs/dashboard/models.png.
const SHOT = resolve(REPO_ROOT, 'docs/dashboard/models.png')
const BUILT_IN = 'mobilenet_v2_1.0_224'
const T = { timeout: 60_000 }

let system: LocalCoordinator
let workers: PagePool | undefined
let browser: Browser
let page: Page
let dir: string
const cspViolations: string[] = []

const api = async <T>(path: string): Promise<T> => {
  const res = await fetch(`${system.url}${path}`)
  assert.equal(res.status, 200, `${path}: ${res.status}`)
  return (await res.json()) as T
}
const card = (name: string) => page.locator(`article.model-card[data-model="${name}"]`)
const row = (name: string, version: number) => card(name).locator(`tr[data-version="${version}"]`)
/** A version row's cells by their column heading, as the user reads them. */
async function cells(r: Locator): Promise<Record<string, string>> {
  const heads = await r.locator('xpath=ancestor::table//thead//th').allInnerTexts()
  // The visible text only: "warm on" also carries the workers' names for screen readers.
  const values = await r.locator('td').evaluateAll((tds) => tds.map((td) => {
    const copy = td.cloneNode(true) as HTMLElement
    for (const hidden of copy.querySelectorAll('.visually-hidden')) hidden.remove()
    return copy.textContent ?? ''
  }))
  return Object.fromEntries(heads.map((h, i) => [h.trim() || 'Actions', (values[i] ?? '').trim()]))
}
const status = () => page.locator('form.model-upload .upload-status')

/** Writes the files to a folder of their own, as a user's download would be, and returns their paths. */
function onDisk(folder: string, files: { name: string; bytes: Buffer }[]): string[] {
  const d = join(dir, folder)
  mkdirSync(d)
  return files.map((f) => {
    writeFileSync(join(d, f.name), f.bytes)
    return join(d, f.name)
  })
}

async function uploadThroughForm(name: string, paths: string[]): Promise<void> {
  const form = page.locator('form.model-upload')
  await form.getByLabel('Model name').fill(name)
  await form.locator('#model-files').setInputFiles(paths)
  await form.getByText(`${paths.length} files`).waitFor({ timeout: 5_000 })
  await form.getByRole('button', { name: 'Upload' }).click()
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hivesight-dashboard-models-'))
  system = await startLocalCoordinator()
  workers = await startHeadlessWorkers(system.url, 1)
  // The page preloads the built-in model before it joins and says so: "warm on" 1 from the first read.
  const builtIn = (await api<ModelView>(`/api/v1/models/${BUILT_IN}`)).versions[0]!.id
  await until(() => system.registry.holding(builtIn).length === 1, 30_000, 'the worker page to report the preloaded built-in model')
  browser = await chromium.launch({ executablePath: findChromium(), headless: true, args: CHROMIUM_ARGS })
  page = await browser.newPage({ viewport: { width: 1100, height: 760 } })
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()) })
  await page.goto(system.url)
  await page.getByRole('status').filter({ hasText: 'live' }).waitFor({ timeout: 10_000 })
  await page.getByRole('navigation').getByRole('link', { name: /^Models/ }).click()
  await page.getByRole('heading', { name: 'Models', level: 2 }).waitFor({ timeout: 5_000 })
})

after(async () => {
  await browser?.close()
  await workers?.stop()
  await system?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

test('the Models tab lists the built-in model: v1 ready, label default, warm on the one page', T, async () => {
  await row(BUILT_IN, 1).waitFor({ timeout: 10_000 })
  await assert.doesNotReject(card(BUILT_IN).getByRole('heading', { name: BUILT_IN }).waitFor({ timeout: 1_000 }))
  assert.deepEqual(await card(BUILT_IN).getByRole('list', { name: `labels of ${BUILT_IN}` }).locator('.chip').allInnerTexts(), ['default → v1'])
  const v1 = await cells(row(BUILT_IN, 1))
  assert.equal(v1.Version, 'v1')
  assert.equal(v1.State, 'ready')
  assert.equal(v1.Labels, 'default')
  assert.equal(v1['Warm on'], '1')
  assert.equal(v1.Classes, '1000')
  assert.equal(v1.Input, '224 × 224')
  // The default version is not offered as the new default, and a labelled version cannot be deleted.
  assert.equal(await row(BUILT_IN, 1).getByRole('button').count(), 0)
  // Hovering "1" names the page that holds it (its name, not a cut-off id).
  const worker = [...system.registry.all()][0]!
  const warm = row(BUILT_IN, 1).locator('td').nth(9)
  assert.equal(await warm.locator('span[title]').getAttribute('title'), worker.hello.name ?? worker.id)
  assert.equal(await warm.locator('.visually-hidden').textContent(), `: ${worker.hello.name ?? worker.id}`)
  console.log(`# models screen: ${BUILT_IN} v1 ${JSON.stringify(v1)}`)
})

test('an upload through the form shows its version validating, then ready once the page smoke-tested it', T, async () => {
  // Every text the status region shows, in order, recorded in the page as it changes.
  await page.evaluate(() => {
    const seen: string[] = []
    ;(window as unknown as { seen: string[] }).seen = seen
    const region = document.querySelector('form.model-upload .upload-status')!
    new MutationObserver(() => {
      const text = (region.textContent ?? '').replace(/\s+/g, ' ').trim()
      if (text && seen.at(-1) !== text) seen.push(text)
    }).observe(region, { subtree: true, childList: true, characterData: true })
  })
  const { files } = await makeTeachableModel({ labels: ['red', 'green', 'blue'] })
  // A golden image rides along (the file picker offers images too): the page's smoke test checks its top-1.
  const golden = { name: 'golden-red.png', bytes: await colourPicture([220, 30, 30]) }
  const t0 = performance.now()
  await uploadThroughForm('colours', onDisk('colours-v1', [...files, golden]))
  await status().getByText(/colours v1 is ready after \d+ s/).waitFor({ timeout: 45_000 })
  const ms = Math.round(performance.now() - t0)
  const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen)
  console.log(`# models screen: upload → ready in ${ms} ms; status: ${seen.map((s) => s.slice(0, 60)).join(' | ')}`)
  const validating = seen.findIndex((s) => /^validating colours v1: a worker loads it/.test(s))
  const ready = seen.findIndex((s) => /^ready colours v1 is ready after/.test(s))
  assert.ok(validating >= 0, `validating was shown: ${seen.join(' | ')}`)
  assert.ok(ready > validating, `ready after validating: ${seen.join(' | ')}`)
  assert.match(seen[ready]!, /smoke test load \/ infer \d+ \/ \d+ ms/)

  // The new card, without waiting for the 5 s refresh: the poll that saw it ready put it in the list.
  const v1 = await cells(row('colours', 1))
  assert.equal(v1.State, 'ready')
  assert.equal(v1.Format, 'layers')
  assert.equal(v1.Classes, '3')
  assert.equal(v1.Labels, 'default', 'a model\'s first version is its default')
  assert.match(v1['Load / infer'] ?? '', /^\d+ \/ \d+ ms$/)
  assert.deepEqual(await card('colours').locator('.labels .chip').allInnerTexts(), ['default → v1'])
  // The form is ready for the next one: files cleared, Upload enabled.
  assert.equal(await page.locator('#model-files').evaluate((i: HTMLInputElement) => i.files?.length ?? 0), 0)
  assert.ok(await page.locator('form.model-upload').getByRole('button', { name: 'Upload' }).isEnabled())
  const viaApi = await api<ModelView>('/api/v1/models/colours')
  assert.equal(viaApi.versions[0]!.state, 'ready')
})

test('a broken upload through the form: the 422\'s problems are listed, each naming the file and the rule', T, async () => {
  const { files } = await makeTeachableModel({ labels: ['cat', 'dog'] })
  const broken = files.map((f) => (f.name === 'model.json' ? { name: f.name, bytes: Buffer.from('{"modelTopology": {"class_name": "Sequential", ') } : f))
  await uploadThroughForm('broken', onDisk('broken', broken))
  const region = status()
  await region.getByText(/^The coordinator refused broken \(\d+ problems?\):/).waitFor({ timeout: 10_000 })
  const problems = await region.locator('ul.problems li').allInnerTexts()
  console.log(`# models screen: refused: ${problems.join(' | ')}`)
  assert.ok(problems.length >= 1)
  assert.ok(problems.some((p) => /^model\.json — bad-json: model\.json is not valid JSON/.test(p)), problems.join(' | '))
  for (const p of problems) assert.match(p, /^\S+ — [a-z-]+: .+/, 'file — rule: words')
  // Nothing was stored, and no card appeared for it.
  assert.equal((await fetch(`${system.url}/api/v1/models/broken`)).status, 404)
  assert.equal(await card('broken').count(), 0)
  assert.ok(await page.locator('form.model-upload').getByRole('button', { name: 'Upload' }).isEnabled(), 'a refusal does not leave the form busy')
})

test('"make default" on a second ready version moves the label chip, and the API agrees', T, async () => {
  const { files } = await makeTeachableModel({ labels: ['rot', 'grün', 'blau'] })
  const up = await uploadModel(system.url, 'colours', files)
  assert.equal(up.status, 202, JSON.stringify(up.body))
  assert.equal((await waitForState(system.url, 'colours', 2)).state, 'ready')
  // The screen reads again within 5 s.
  await row('colours', 2).filter({ hasText: 'ready' }).waitFor({ timeout: 10_000 })
  assert.equal((await cells(row('colours', 2))).Labels, '')
  // The card's "Point label … at" offers the newest ready version, though v1 was the only one when it was drawn.
  assert.equal(await card('colours').locator('form.point select').inputValue(), '2')
  assert.equal(await row('colours', 1).getByRole('button', { name: /make default/i }).count(), 0)
  await row('colours', 2).getByRole('button', { name: 'Make v2 the default of colours' }).click()

  await until(async () => (await card('colours').locator('.labels .chip').allInnerTexts()).join() === 'default → v2', 5_000, 'the chip to say default → v2')
  assert.equal((await cells(row('colours', 2))).Labels, 'default')
  assert.equal((await cells(row('colours', 1))).Labels, '')
  assert.equal(await row('colours', 2).getByRole('button', { name: /make default/i }).count(), 0)
  await row('colours', 1).getByRole('button', { name: 'Make v1 the default of colours' }).waitFor({ timeout: 1_000 })
  assert.equal(await card('colours').getByRole('alert').count(), 0, 'no error under the card')
  const viaApi = await api<ModelView>('/api/v1/models/colours')
  assert.deepEqual(viaApi.labels.map((l) => [l.label, l.version, l.canary]), [['default', 2, null]])
  // A version picked in "Point label … at" stays picked (through the refresh below).
  await card('colours').locator('form.point select').selectOption('1')
  // The built-in model's label did not move.
  assert.deepEqual((await api<ModelView>(`/api/v1/models/${BUILT_IN}`)).labels.map((l) => [l.label, l.version]), [['default', 1]])
})

test('screenshot of the Models screen (docs/dashboard/models.png)', T, async () => {
  // After a refresh tick, so "warm on" counts what the page holds now.
  await page.waitForTimeout(5_500)
  assert.equal(await card('colours').locator('form.point select').inputValue(), '1', 'the pick survived a refresh')
  mkdirSync(resolve(SHOT, '..'), { recursive: true })
  await page.screenshot({ path: SHOT, fullPage: true })
  // Nothing spills out sideways at this width: the versions table fits its card.
  const overflow = await page.locator('.versions').evaluateAll((els) => els.map((e) => e.scrollWidth - e.clientWidth))
  console.log(`# models screen: versions tables overflow by ${overflow.join(', ')} px`)
  assert.deepEqual(overflow, overflow.map(() => 0), 'every versions table fits its card at 1100 px')
  assert.deepEqual(cspViolations, [], 'no Content-Security-Policy violations')
})
