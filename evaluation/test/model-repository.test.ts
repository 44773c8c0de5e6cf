import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { REPO_ROOT } from '@hivesight/coordinator'
import type { JobView, ModelVersionView, ModelView } from '@hivesight/protocol'
import type { PagePool } from '@hivesight/worker-runtime/page-pool'
import { mapLimit } from '../src/client/hivesight-client.ts'
import { readLabelledDataset, spreadSample } from '../src/dataset/labelled-dataset.ts'
import { startHeadlessWorkers, startLocalCoordinator, until, type LocalCoordinator } from '../src/harness/local-system.ts'
import { colourPicture, uploadModel, waitForState } from '../src/models/model-upload.ts'
import { makeTeachableModel } from '../../coordinator/test/support/teachable-model.ts'

// A user's own model end to end, on real Chromium pages: a Teachable-Machine-shaped layers model made here
// with tfjs-layers is uploaded, smoke-tested by a page, classified with its own labels beside MobileNet on
// the same pages, then swapped v1 → v2 under load with no failed job.
const DATASET = process.env.DATASET_DIR ?? resolve(REPO_ROOT, '../shared/datasets/imagenet-val-dev')

let system: LocalCoordinator
let workers: PagePool

const api = async <T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> => {
  const res = await fetch(`${system.url}${path}`, init)
  const text = await res.text()
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T }
}
const classify = async (image: Buffer, model?: string): Promise<JobView> => {
  const form = new FormData()
  form.append('image', new Blob([new Uint8Array(image)], { type: 'image/png' }), 'x.png')
  const r = await api<JobView>(`/api/v1/classify?timeout=60${model ? `&model=${encodeURIComponent(model)}` : ''}`, { method: 'POST', body: form })
  assert.equal(r.status, 200, JSON.stringify(r.body))
  return r.body
}
const submit = async (image: Buffer, model: string): Promise<string> => {
  const form = new FormData()
  form.append('image', new Blob([new Uint8Array(image)], { type: 'image/png' }), 'x.png')
  const r = await api<{ jobs: { id: string }[] }>(`/api/v1/jobs?model=${encodeURIComponent(model)}`, { method: 'POST', body: form })
  assert.equal(r.status, 202, JSON.stringify(r.body))
  return r.body.jobs[0]!.id
}
const waitJob = async (id: string): Promise<JobView> => (await api<JobView>(`/api/v1/jobs/${id}?wait=60`)).body

const RED = await colourPicture([220, 30, 30])
const GREEN = await colourPicture([30, 200, 40])
const BLUE = await colourPicture([20, 40, 230])

before(async () => {
  // Every job of a split label also runs on the other version (10 % by default), so agreement is counted.
  system = await startLocalCoordinator({ MODEL_SHADOW_PERCENT: '100' })
  workers = await startHeadlessWorkers(system.url, 2)
  await until(() => system.registry.size === 2, 60_000, 'two worker pages to connect')
})

after(async () => {
  await workers?.stop()
  await system?.close()
})

test('a Teachable Machine export is uploaded, smoke-tested on a page, READY, and answers with its own labels', { timeout: 120_000 }, async () => {
  // Pages preload the default model before they join, and say so.
  const builtIn = (await api<ModelView>('/api/v1/models/mobilenet_v2_1.0_224')).body.versions[0]!.id
  await until(() => system.registry.holding(builtIn).length === 2, 10_000, 'both pages to report the preloaded default model')
  const t0 = performance.now()
  const { files } = await makeTeachableModel({ labels: ['red', 'green', 'blue'] })
  // Golden images ride along: the smoke test checks their top-1 on the page.
  const golden = [{ name: 'golden-red.png', bytes: RED }, { name: 'golden-blue.png', bytes: BLUE }]
  const up = await uploadModel(system.url, 'colours', [...files, ...golden])
  assert.equal(up.status, 202, JSON.stringify(up.body))
  assert.equal((up.body as ModelVersionView).state, 'validating')
  const v1 = await waitForState(system.url, 'colours', 1)
  console.log(`# POST /api/v1/models → ready in ${Math.round(performance.now() - t0)} ms (smoke: ${JSON.stringify(v1.smoke)})`)
  assert.equal(v1.state, 'ready', v1.failureReason ?? '')
  assert.ok(v1.smoke && v1.smoke.inferMs >= 0)
  const model = (await api<ModelView>('/api/v1/models/colours')).body
  assert.deepEqual(model.labels.map((l) => [l.label, l.version]), [['default', 1]], 'a model\'s first version is its default')

  for (const [picture, colour] of [[RED, 'red'], [GREEN, 'green'], [BLUE, 'blue']] as const) {
    const job = await classify(picture, 'colours')
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error))
    assert.equal(job.result!.predictions[0]!.label, colour)
    assert.equal(job.result!.predictions.length, 3, 'top-k is bounded by the model\'s classes')
    assert.deepEqual(job.result!.model, { name: 'colours', version: 1 })
    assert.deepEqual(job.model, { name: 'colours', version: 1 })
  }
})

test('the same pages serve MobileNet and the custom model at once, and say they hold both', { timeout: 120_000 }, async () => {
  const photos = spreadSample(readLabelledDataset(DATASET), 8)
  const mixed = [...photos.map((p) => ({ path: p.path, model: undefined as string | undefined })), ...Array.from({ length: 8 }, (_, i) => ({ path: '', model: i % 2 ? 'colours@1' : 'colours' }))]
  const jobs = await mapLimit(mixed, 8, async (m) => classify(m.model ? RED : await readFile(m.path), m.model))
  assert.deepEqual(jobs.filter((j) => j.status !== 'succeeded').map((j) => j.error), [])
  for (const [i, j] of jobs.entries()) {
    if (mixed[i]!.model) assert.equal(j.result!.predictions[0]!.label, 'red')
    else {
      assert.equal(j.result!.model.name, 'mobilenet_v2_1.0_224')
      assert.match(j.result!.predictions[0]!.wnid, /^n\d{8}$/)
    }
  }
  const colours = (await api<ModelView>('/api/v1/models/colours')).body.versions[0]!
  const mobilenet = (await api<ModelView>('/api/v1/models/mobilenet_v2_1.0_224')).body.versions[0]!
  await until(() => system.registry.holding(colours.id).length >= 1, 10_000, 'a page to report it holds the custom model')
  assert.equal(system.registry.holding(mobilenet.id).length, 2, 'both pages keep MobileNet (preloaded)')
})

test('a version whose smoke test fails is FAILED with the page\'s reason, and refuses jobs with 409', { timeout: 120_000 }, async () => {
  const { files } = await makeTeachableModel({ labels: ['red', 'green', 'blue'] })
  // NaN weights: valid by every static rule, caught only by running it.
  const weights = files.find((f) => f.name === 'weights.bin')!
  const nan = Buffer.alloc(weights.bytes.length)
  for (let i = 0; i < nan.length; i += 4) nan.writeFloatLE(Number.NaN, i)
  const up = await uploadModel(system.url, 'colours', files.map((f) => (f === weights ? { name: f.name, bytes: nan } : f)))
  assert.equal(up.status, 202, JSON.stringify(up.body))
  const v2 = await waitForState(system.url, 'colours', 2)
  assert.equal(v2.state, 'failed')
  assert.match(v2.failureReason ?? '', /NaN/)
  const form = new FormData()
  form.append('image', new Blob([new Uint8Array(RED)], { type: 'image/png' }), 'x.png')
  const refused = await api<{ code: string }>('/api/v1/jobs?model=colours@2', { method: 'POST', body: form })
  assert.equal(refused.status, 409)
  assert.equal(refused.body.code, 'VERSION_NOT_READY')
  const moved = await api<{ code: string }>('/api/v1/models/colours/labels/default', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ version: 2 }) })
  assert.equal(moved.status, 409, 'a label never points at a version that is not ready')

  // A golden image the model gets wrong (a red picture sold as green) fails the version, saying which.
  const wrong = await uploadModel(system.url, 'colours', [...files, { name: 'golden-green.png', bytes: RED }])
  assert.equal(wrong.status, 202, JSON.stringify(wrong.body))
  const v3 = await waitForState(system.url, 'colours', 3)
  assert.equal(v3.state, 'failed')
  assert.match(v3.failureReason ?? '', /golden-green\.png/)
})

test('default moved v1 → v4 during a 500-job run: 0 failed, every job names the version it ran on, and v4 never became default by itself', { timeout: 240_000 }, async () => {
  const { files } = await makeTeachableModel({ labels: ['rot', 'grün', 'blau'] })
  assert.equal((await uploadModel(system.url, 'colours', files)).status, 202)
  const v4 = await waitForState(system.url, 'colours', 4)
  assert.equal(v4.state, 'ready')
  assert.deepEqual((await api<ModelView>('/api/v1/models/colours')).body.labels.map((l) => [l.label, l.version]), [['default', 1]])

  const N = 500
  let moveAt = -1
  const ids = await mapLimit(Array.from({ length: N }, (_, i) => i), 16, async (i) => {
    if (i === N / 2) {
      const moved = await api('/api/v1/models/colours/labels/default', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ version: 4 }) })
      assert.equal(moved.status, 200)
      moveAt = i
    }
    return { i, id: await submit([RED, GREEN, BLUE][i % 3]!, 'colours') }
  })
  const jobs = await mapLimit(ids, 32, async ({ i, id }) => ({ i, job: await waitJob(id) }))
  const failed = jobs.filter(({ job }) => job.status !== 'succeeded')
  assert.deepEqual(failed.map(({ job }) => `${job.status} ${job.error?.message}`), [])
  const byVersion = new Map<number, number>()
  for (const { i, job } of jobs) {
    const v = job.result!.model.version
    assert.equal(v, job.model!.version, 'the result names the version the job was pinned to')
    byVersion.set(v, (byVersion.get(v) ?? 0) + 1)
    const want = v === 1 ? ['red', 'green', 'blue'] : ['rot', 'grün', 'blau']
    assert.equal(job.result!.predictions[0]!.label, want[i % 3], `job ${i} on v${v}`)
  }
  console.log(`# hot swap at job ${moveAt}: ${JSON.stringify(Object.fromEntries(byVersion))} (version: jobs), 0 failed`)
  assert.ok((byVersion.get(1) ?? 0) >= N / 2 - 16 && (byVersion.get(4) ?? 0) >= N / 2 - 16, 'both halves ran, each on its own version')
  assert.equal(byVersion.get(2) ?? byVersion.get(3), undefined, 'the failed versions ran nothing')
})

test('a canary share splits the label\'s traffic; rolling back is moving the label back; per-version figures in /metrics', { timeout: 120_000 }, async () => {
  const canary = await api('/api/v1/models/colours/labels/default', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ version: 1, canary: { version: 4, percent: 50 } }) })
  assert.equal(canary.status, 200)
  const split = await mapLimit(Array.from({ length: 40 }, () => RED), 8, async (img) => (await classify(img, 'colours')).result!.model.version)
  const fours = split.filter((v) => v === 4).length
  assert.ok(fours >= 8 && fours <= 32, `50 % canary sent ${fours}/40 to v4`)
  // Shadow runs compared the two versions on the same pictures: v4 renamed every class, so they never agree.
  const during = (await api<ModelView>('/api/v1/models/colours')).body.versions
  const v1agree = during.find((v) => v.version === 1)!.agreement.find((a) => a.version === 4)
  assert.ok(v1agree && v1agree.compared >= 30, `v1 and v4 compared on ${v1agree?.compared} of 40 jobs`)
  assert.equal(v1agree.agreed, 0, 'a renamed class is another answer')
  const back = await api<ModelView>('/api/v1/models/colours/labels/default', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ version: 1 }) })
  assert.deepEqual(back.body.labels.find((l) => l.label === 'default'), { label: 'default', version: 1, canary: null })
  assert.deepEqual((await classify(RED, 'colours')).result!.model, { name: 'colours', version: 1 })
  const metrics = await (await fetch(`${system.url}/metrics`)).text()
  assert.match(metrics, /hivesight_model_results_total\{model="colours",version="4"\} \d+/)
  assert.match(metrics, /hivesight_model_results_total\{model="mobilenet_v2_1.0_224",version="1"\} \d+/)
  assert.match(metrics, /hivesight_model_agreement_total\{model="colours",version="(1|4)",other="(4|1)",agreed="false"\} \d+/)
  const unknown = await api<{ code: string }>('/api/v1/jobs?model=nope', { method: 'POST', body: (() => { const f = new FormData(); f.append('image', new Blob([new Uint8Array(RED)], { type: 'image/png' }), 'x.png'); return f })() })
  assert.equal(unknown.status, 404)
  assert.equal(unknown.body.code, 'MODEL_NOT_FOUND')
})
