import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { REPO_ROOT } from '@hivesight/coordinator'
import type { JobView } from '@hivesight/protocol'
import { findChromium } from '@hivesight/worker-runtime/chromium-path'
import { CHROMIUM_ARGS, type PagePool } from '@hivesight/worker-runtime/page-pool'
import { chromium } from 'playwright-core'
import { HivesightClient, mapLimit } from '../src/client/hivesight-client.ts'
import { readLabelledDataset, spreadSample, type LabelledImage } from '../src/dataset/labelled-dataset.ts'
import { startHeadlessWorkers, startLocalCoordinator, until, type LocalCoordinator } from '../src/harness/local-system.ts'
import { NodeClassifier } from '../src/reference/node-classifier.ts'

// Real parts end to end: coordinator (with API keys and worker tokens, as deployed) + embedded database +
// headless Chromium + the real model on real ImageNet validation images. Nothing here is mocked.
const DATASET = process.env.DATASET_DIR ?? resolve(REPO_ROOT, '../shared/datasets/imagenet-val-dev')
const N_IMAGES = 24

/** A command as a user runs it (a child process, so its process.exit and its env are its own). */
function runNode(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr.on('data', (c: Buffer) => (err += c.toString()))
    child.once('exit', (code) => done({ code, out, err: err.slice(-2000) }))
  })
}

let system: LocalCoordinator
let workers: PagePool
let images: LabelledImage[]
let jobs: JobView[]
let apiKey: string
const SECRETS = { AUTH_MODE: 'keys', WORKER_TOKEN: randomBytes(24).toString('base64url'), JOIN_TOKEN: randomBytes(24).toString('base64url') }

before(async () => {
  assert.ok(existsSync(DATASET), `the development images are expected at ${DATASET} (set DATASET_DIR)`)
  images = spreadSample(readLabelledDataset(DATASET), N_IMAGES)
  system = await startLocalCoordinator(SECRETS)
  // An admin key: the dashboard makes a join link with it (plain keys may not).
  apiKey = await system.apiKey('e2e', { admin: true })
  workers = await startHeadlessWorkers(system.url, 1, undefined, SECRETS.WORKER_TOKEN)
  await until(() => system.registry.size === 1, 60_000, 'the headless worker page to connect')
  const client = new HivesightClient(system.url, { authorization: `Bearer ${apiKey}` })
  // One multi-image upload and single-image ones, as users send them.
  const batch = await client.submitFiles(images.slice(0, 8).map((i) => i.path))
  const singles = await mapLimit(images.slice(8), 4, (i) => client.submitFiles([i.path]))
  const ids = [...batch.jobs, ...singles.flatMap((s) => s.jobs)].map((j) => j.id)
  jobs = await mapLimit(ids, 8, (id) => client.waitFinished(id, 120_000))
})

after(async () => {
  await workers?.stop()
  await system?.close()
})

test('every uploaded image is classified by the headless worker', () => {
  const notDone = jobs.filter((j) => j.status !== 'succeeded').map((j) => `${j.filename}: ${j.status} ${j.error?.message ?? ''}`)
  assert.deepEqual(notDone, [])
  for (const j of jobs) {
    assert.equal(j.result?.predictions.length, 5)
    assert.equal(j.attempts, 1)
    assert.ok(j.workerId)
    const scores = j.result!.predictions.map((p) => p.score)
    assert.deepEqual(scores, [...scores].sort((a, b) => b - a), 'predictions are ranked by score')
  }
})

test('top-1 agrees with the ImageNet label for at least 75 % of these 24 images (79 % measured; 83 % on 600)', () => {
  const hits = jobs.filter((j, i) => j.result?.predictions[0]?.wnid === images[i]!.wnid).length
  console.log(`# e2e top-1: ${hits}/${jobs.length} = ${((100 * hits) / jobs.length).toFixed(1)} %`)
  assert.ok(hits / jobs.length >= 0.75, `top-1 accuracy ${hits}/${jobs.length} is below 75 %`)
})

test('the browser gives the same top-1 as an independent Node reference on at least 95 % of the images', async () => {
  // Independent of the page's code: sharp decodes, tfjs ops resize (the page uses its own JS crop-resize),
  // the logits are ranked here and named from labels.json directly (not by the coordinator's labelling).
  const reference = await NodeClassifier.load(system.modelDir)
  const labels = JSON.parse(await readFile(resolve(system.modelDir, 'labels.json'), 'utf8')) as { index: number; wnid: string | null }[]
  let same = 0
  const differ: string[] = []
  for (const [i, job] of jobs.entries()) {
    const input = await reference.modelInput(await readFile(images[i]!.path))
    const logits = await reference.logits(input)
    input.dispose()
    let best = 1
    for (let k = 2; k < logits.length; k++) if (logits[k]! > logits[best]!) best = k
    const expected = labels[best]!.wnid
    // The model's own distribution: softmax over all 1001 outputs, background included.
    const score = 1 / logits.reduce((sum, l) => sum + Math.exp(l - logits[best]!), 0)
    if (job.result?.predictions[0]?.wnid === expected) {
      same++
      assert.ok(Math.abs(job.result.predictions[0].score - score) < 0.05, `${images[i]!.file}: score ${job.result.predictions[0].score} vs ${score}`)
    } else differ.push(`${images[i]!.file}: browser ${job.result?.predictions[0]?.wnid} node ${expected}`)
  }
  console.log(`# e2e browser/node top-1 agreement: ${same}/${jobs.length}${differ.length ? `; differ: ${differ.join('; ')}` : ''}`)
  assert.ok(same / jobs.length >= 0.95, `only ${same}/${jobs.length} agree: ${differ.join('; ')}`)
})

test('the dashboard makes a join link; a tab opened with it volunteers as an untrusted worker, one tab per link', async () => {
  const browser = await chromium.launch({ executablePath: findChromium(), headless: true, args: CHROMIUM_ARGS })
  try {
    const dashboard = await browser.newPage()
    await dashboard.goto(system.url)
    await dashboard.fill('#api-key', apiKey)
    await dashboard.getByRole('button', { name: 'Use key' }).click()
    await dashboard.getByRole('status').filter({ hasText: 'live' }).waitFor({ timeout: 10_000 })
    await dashboard.getByRole('navigation').getByRole('link', { name: 'Volunteer' }).click()
    await dashboard.fill('#join-name', 'e2e tab')
    await dashboard.click('#join button')
    await dashboard.waitForFunction(() => (document.getElementById('join-url') as HTMLInputElement).value !== '', undefined, { timeout: 10_000 })
    const link = await dashboard.inputValue('#join-url')
    assert.match(link, /\/worker#token=hs1\.j\.e2e-tab-/)

    const volunteer = await browser.newPage()
    await volunteer.goto(link)
    await volunteer.waitForFunction(() => document.getElementById('status')?.textContent?.includes('connected as'), undefined, { timeout: 60_000 })
    await dashboard.getByRole('navigation').getByRole('link', { name: /^Workers/ }).click()
    const tab = dashboard.locator('tr[data-worker]').filter({ hasText: 'untrusted' })
    await tab.waitFor({ timeout: 10_000 })
    assert.match(await tab.innerText(), /e2e-tab-\S+\s+browser\s+untrusted/)

    // The same link in a second tab: refused while the first tab lives.
    const copy = await browser.newPage()
    await copy.goto(link)
    await copy.waitForFunction(() => document.getElementById('status')?.textContent?.includes('already has a live session'), undefined, { timeout: 60_000 })
    assert.equal(system.registry.size, 2, 'the runtime page and one volunteer tab')
  } finally {
    await browser.close()
  }
})

test('npm run eval:accuracy, short: 12 images through the command against this system; it prints, draws and saves its figures', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hivesight-accuracy-'))
  try {
    const r = await runNode(['--import', 'tsx', 'evaluation/src/accuracy/cli.ts', '--dataset', DATASET, '--limit', '12', '--url', system.url, '--api-key', apiKey], { HIVESIGHT_RESULTS_DIR: dir })
    assert.equal(r.code, 0, r.err)
    assert.match(r.out, /12 images in [\d.]+ s = [\d.]+ images\/s end to end/)
    const saved = JSON.parse(readFileSync(join(dir, 'accuracy.json'), 'utf8')) as { data: { images: number; scores: { subset: string; n: number; top1: number; failed: number }[] } }
    const all = saved.data.scores.find((s) => s.subset === 'all')!
    assert.equal(all.n, 12)
    assert.equal(all.failed, 0)
    assert.ok(all.top1 >= 8, `top-1 ${all.top1} of 12`)
    assert.ok(statSync(join(dir, 'accuracy-by-subset.svg')).size > 1000)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
