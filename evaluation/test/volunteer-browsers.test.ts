import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { test } from 'node:test'
import { REPO_ROOT } from '@hivesight/coordinator'
import type { JobView, WorkerList, WorkerView } from '@hivesight/protocol'
import { findChromium } from '@hivesight/worker-runtime/chromium-path'
import { CHROMIUM_ARGS } from '@hivesight/worker-runtime/page-pool'
import { chromium } from 'playwright-core'
import { readLabelledDataset, spreadSample } from '../src/dataset/labelled-dataset.ts'
import { IsolatedHost } from '../src/faults/netns.ts'
import { startHeadlessWorkers, startLocalCoordinator, until } from '../src/harness/local-system.ts'

// Volunteer tabs in real browsers, the default policy (quorum), open mode: a Chromium tab on this host and a
// Firefox ESR tab in a network namespace of its own (10.231.201.2: another /24, so an independent witness;
// every loopback connection comes from 127.0.0.1). One tab's answers finalise nothing; the second browser's
// agreement does. Then the Chromium tab is frozen as a background tab can be (FREEZE_MS, 60 s by default):
// nothing uploaded meanwhile is lost, and every job ends confirmed. Namespaces need root (CI is root); as
// another user the witness is a trusted headless page instead, which a volunteer's answer also needs.
const DATASET = process.env.DATASET_DIR ?? resolve(REPO_ROOT, '../shared/datasets/imagenet-val-dev')
const FREEZE_MS = Number(process.env.FREEZE_MS ?? 60_000)
const SHOTS = resolve(REPO_ROOT, 'evaluation/results/dashboard')
const images = spreadSample(readLabelledDataset(DATASET), 5)

test('a volunteer tab alone cannot finalise a job; a second, independent browser confirms it; a frozen background tab loses nothing', { timeout: 300_000 + FREEZE_MS }, async (t) => {
  const system = await startLocalCoordinator({ HOST: '0.0.0.0' })
  const port = new URL(system.url).port
  const browser = await chromium.launch({ executablePath: findChromium(), headless: true, args: CHROMIUM_ARGS })
  const profile = mkdtempSync(join(tmpdir(), 'hivesight-firefox-'))
  const host = process.getuid?.() === 0 ? new IsolatedHost(201, 'vt') : undefined
  let firefox: ChildProcess | undefined
  let witness: Awaited<ReturnType<typeof startHeadlessWorkers>> | undefined
  t.after(async () => {
    firefox?.kill('SIGKILL')
    await witness?.stop()
    host?.destroy()
    await browser.close()
    await system.close()
    rmSync(profile, { recursive: true, force: true })
  })
  const api = async <T>(path: string, init?: RequestInit): Promise<T> => (await (await fetch(`${system.url}${path}`, init)).json()) as T
  const volunteers = async () => (await api<WorkerList>('/api/v1/workers')).workers.filter((w) => !w.trusted)
  const upload = async (paths: string[]) => {
    const form = new FormData()
    for (const p of paths) form.append('image', new Blob([readFileSync(p)], { type: 'image/jpeg' }), p.split('/').pop())
    return (await api<{ jobs: { id: string }[] }>('/api/v1/jobs', { method: 'POST', body: form })).jobs.map((j) => j.id)
  }
  const statuses = async (ids: string[]) => Promise.all(ids.map(async (id) => (await api<JobView>(`/api/v1/jobs/${id}`)).status))

  // 1. One Chromium tab volunteers: it answers every job, and none becomes final on its word.
  const page = await browser.newPage()
  await page.goto(`${system.url}/worker`)
  await until(async () => /connected/.test(await page.title()), 90_000, 'the Chromium tab to connect')
  const first = await upload(images.slice(0, 3).map((i) => i.path))
  const chromiumTab = async () => (await volunteers()).find((w) => w.identity === 'net:127.0.0.0/24')
  await until(async () => ((await chromiumTab())?.record?.answers ?? 0) >= 3, 90_000, 'the tab to answer the three jobs')
  assert.deepEqual((await statuses(first)).filter((s) => s === 'succeeded'), [], 'one volunteer alone finalised a job')

  // 2. An independent witness: Firefox ESR on a network of its own (or, not as root, a trusted page).
  if (host) {
    host.create()
    firefox = spawn('ip', ['netns', 'exec', host.ns, 'firefox-esr', '--headless', '--no-remote', '--profile', profile, `http://${host.hostIp}:${port}/worker`], { stdio: 'ignore' })
    await until(async () => (await volunteers()).some((w) => w.identity === `net:${host.hostIp.replace(/\.1$/, '.0')}/24`), 120_000, 'the Firefox tab to connect from its namespace')
  } else {
    t.diagnostic('not root: no network namespace for a second volunteer; a trusted headless page confirms instead')
    witness = await startHeadlessWorkers(system.url, 1)
  }
  await until(async () => (await statuses(first)).every((s) => s === 'succeeded'), 120_000, 'the witness to confirm the three jobs')
  const chromiumRecord = (await chromiumTab())?.record
  assert.ok((chromiumRecord?.confirmed ?? 0) >= 3, `the Chromium tab is credited: ${JSON.stringify(chromiumRecord)}`)
  for (const id of first) {
    const job = await api<JobView>(`/api/v1/jobs/${id}`)
    assert.equal(job.result?.predictions.length, 5)
  }
  // The dashboard's Workers screen: speed per connection, honesty per volunteer identity (a screenshot, once
  // the sweep has written every connection's figures).
  await until(async () => (await volunteers()).every((w) => w.jobsDone >= 3), 10_000, 'both tabs\' figures')
  const dashboard = await browser.newPage({ viewport: { width: 1100, height: 420 } })
  await dashboard.goto(system.url)
  await dashboard.getByRole('navigation').getByRole('link', { name: /^Workers/ }).click()
  await dashboard.locator('tr[data-worker]').filter({ hasText: 'confirmed' }).first().waitFor({ timeout: 10_000 })
  mkdirSync(SHOTS, { recursive: true })
  await dashboard.screenshot({ path: resolve(SHOTS, 'workers-volunteers.png') })
  await dashboard.close()

  // 3. The Chromium tab frozen, as a hidden tab can be, while new work arrives: nothing is lost.
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Page.setWebLifecycleState', { state: 'frozen' })
  const second = await upload(images.slice(3, 5).map((i) => i.path))
  await new Promise((r) => setTimeout(r, FREEZE_MS))
  const duringFreeze: WorkerView | undefined = await chromiumTab()
  await cdp.send('Page.setWebLifecycleState', { state: 'active' })
  await until(async () => (await statuses(second)).every((s) => s === 'succeeded'), 180_000, 'the jobs uploaded during the freeze to be confirmed')
  t.diagnostic(`frozen ${FREEZE_MS / 1000} s: the tab ${duringFreeze ? 'kept its connection' : 'was dropped and reconnected'}`)
  assert.deepEqual(await statuses([...first, ...second]), Array(5).fill('succeeded'))
})
