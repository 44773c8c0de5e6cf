import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ModelList, ModelVersionView, ModelView } from '@hivesight/protocol'
import type { ModelRule, UploadedModelFile } from '../../src/models/model-validator.ts'
import { STORES } from '../support/databases.ts'
import { tinyPng } from '../support/images.ts'
import { makeTeachableModel } from '../support/teachable-model.ts'
import { buildTestApp, multipart, type TestApp } from '../support/test-app.ts'
import { editJson, editModel, put } from './model-upload-fixtures.ts'

// The model repository over HTTP, on both stores: the built-in model, uploads and their refusals, the
// smoke test's verdict (given here by hand: no worker page runs), labels, removal, admin keys, and the
// files worker pages load.

const T = { timeout: 60_000 }
const NAME = 'tm-colours'
const MOBILENET = 'mobilenet_v2_1.0_224'
const tm = (await makeTeachableModel()).files
// The same network with another third class: another manifest, so another version (same weights.bin).
const tm2 = (await makeTeachableModel({ labels: ['red', 'green', 'azure'] })).files
const tm3 = (await makeTeachableModel({ labels: ['red', 'green', 'navy'] })).files

type Headers = Record<string, string>

/** A model upload as the CLI sends it: field "name" (and "label"), every file as a part named "files". */
function upload(app: TestApp, name: string, files: UploadedModelFile[], opts: { label?: string; headers?: Headers } = {}) {
  const body = multipart(
    files.map((f) => ({ field: 'files', name: f.name, type: f.name.endsWith('.json') ? 'application/json' : 'application/octet-stream', data: f.bytes })),
    { name, ...(opts.label ? { label: opts.label } : {}) },
  )
  return app.app.inject({ method: 'POST', url: '/api/v1/models', payload: body.payload, headers: { ...body.headers, ...opts.headers } })
}

async function models(app: TestApp, headers: Headers = {}): Promise<ModelView[]> {
  const res = await app.app.inject({ url: '/api/v1/models', headers })
  assert.equal(res.statusCode, 200, res.body)
  return res.json<ModelList>().models
}

async function model(app: TestApp, name: string): Promise<ModelView> {
  const res = await app.app.inject({ url: `/api/v1/models/${name}` })
  assert.equal(res.statusCode, 200, res.body)
  return res.json<ModelView>()
}

const labelsOf = (m: ModelView) => Object.fromEntries(m.labels.map((l) => [l.label, l.canary ? `${l.version} (canary ${l.canary.version} at ${l.canary.percent} %)` : String(l.version)]))

/** Uploads and settles as a page's smoke test would; returns the version's view. */
async function readyVersion(app: TestApp, name: string, files: UploadedModelFile[], label?: string): Promise<ModelVersionView> {
  const res = await upload(app, name, files, { label })
  assert.equal(res.statusCode, 202, res.body)
  const v = res.json<ModelVersionView>()
  assert.equal(await app.models.settle(v.id, { ok: true, reason: null, loadMs: 120, inferMs: 4.25, worker: 'test-page' }), true)
  return (await model(app, name)).versions.find((x) => x.id === v.id)!
}

function submit(app: TestApp, selector?: string, headers: Headers = {}) {
  const body = multipart([{ name: 'dot.png', type: 'image/png', data: tinyPng() }])
  const url = selector === undefined ? '/api/v1/jobs' : `/api/v1/jobs?model=${encodeURIComponent(selector)}`
  return app.app.inject({ method: 'POST', url, payload: body.payload, headers: { ...body.headers, ...headers } })
}

function problemOf(res: { statusCode: number; headers: Record<string, unknown>; json: <T>() => T }, status: number, code: string) {
  assert.equal(res.statusCode, status, JSON.stringify(res.json()))
  assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
  const p = res.json<{ code: string; detail: string; problems?: { file: string; rule: string; message: string }[] }>()
  assert.equal(p.code, code, p.detail)
  return p
}

for (const store of STORES) test(`[${store}] the built-in MobileNet is version 1 of ${MOBILENET}, ready and labelled default`, T, async (t) => {
  const app = await buildTestApp(t, { store })
  const list = await models(app)
  assert.deepEqual(list.map((m) => m.name), [MOBILENET])
  const [mn] = list
  assert.deepEqual(mn!.labels, [{ label: 'default', version: 1, canary: null }])
  assert.equal(mn!.versions.length, 1)
  const v = mn!.versions[0]!
  assert.deepEqual({ version: v.version, state: v.state, failureReason: v.failureReason, format: v.format, classes: v.classes, inputSize: v.inputSize },
    { version: 1, state: 'ready', failureReason: null, format: 'graph', classes: 1000, inputSize: 224 })
  assert.match(v.id, /^[0-9a-f]{64}$/)
  assert.equal(v.bytes, 56_897 + 13_956_412)
  assert.notEqual(v.readyAt, null)
  assert.deepEqual(await model(app, MOBILENET), mn)
  problemOf(await app.app.inject({ url: '/api/v1/models/nosuch' }), 404, 'MODEL_NOT_FOUND')
  // A job without ?model= runs on it.
  const res = await submit(app)
  assert.equal(res.statusCode, 202, res.body)
  const job = (await app.app.inject({ url: res.json<{ jobs: { url: string }[] }>().jobs[0]!.url })).json<{ model: unknown }>()
  assert.deepEqual(job.model, { name: MOBILENET, version: 1 })
})

for (const store of STORES) test(`[${store}] an upload is validating until its smoke test; then ready, labelled default, and jobs run on it`, T, async (t) => {
  const app = await buildTestApp(t, { store })
  const res = await upload(app, NAME, tm)
  assert.equal(res.statusCode, 202, res.body)
  assert.equal(res.headers.location, `/api/v1/models/${NAME}`)
  const v = res.json<ModelVersionView>()
  assert.deepEqual({ version: v.version, state: v.state, format: v.format, classes: v.classes, inputSize: v.inputSize, smoke: v.smoke, readyAt: v.readyAt },
    { version: 1, state: 'validating', format: 'layers', classes: 3, inputSize: 224, smoke: null, readyAt: null })
  assert.equal(v.bytes, tm.filter((f) => f.name !== 'metadata.json').reduce((n, f) => n + f.bytes.length, 0))

  const seen = await model(app, NAME)
  assert.deepEqual(seen.labels, [], 'no label until it is ready')
  assert.deepEqual(seen.versions, [v])
  assert.deepEqual((await models(app)).map((m) => m.name), [NAME, MOBILENET].sort())

  // No page has run it: a job for it is "not yet", not "no such model".
  for (const selector of [NAME, `${NAME}@1`, `${NAME}@default`]) {
    const early = await submit(app, selector)
    problemOf(early, 503, 'MODEL_NOT_READY')
    assert.equal(early.headers['retry-after'], '5', selector)
  }
  problemOf(await submit(app, `${NAME}@2`), 404, 'MODEL_NOT_FOUND')
  problemOf(await submit(app, `${NAME}@stable`), 404, 'MODEL_NOT_FOUND')

  const again = problemOf(await upload(app, NAME, tm), 409, 'MODEL_EXISTS')
  assert.match(again.detail, new RegExp(`${NAME} version 1`))
  // Same files under another name: still the same version.
  problemOf(await upload(app, 'other-name', tm), 409, 'MODEL_EXISTS')

  assert.equal(await app.models.settle(v.id, { ok: true, reason: null, loadMs: 120.4, inferMs: 4.25, worker: 'test-page' }), true)
  assert.equal(await app.models.settle(v.id, { ok: false, reason: 'late', loadMs: 0, inferMs: 0, worker: 'other' }), false, 'settled once')
  const ready = await model(app, NAME)
  assert.deepEqual(ready.labels, [{ label: 'default', version: 1, canary: null }], 'a model\'s first version takes default')
  const rv = ready.versions[0]!
  assert.equal(rv.state, 'ready')
  assert.equal(rv.failureReason, null)
  assert.equal(rv.readyAt, app.clock.now())
  assert.deepEqual(rv.smoke, { loadMs: 120, inferMs: 4.3, worker: 'test-page' })

  const ok = await submit(app, NAME)
  assert.equal(ok.statusCode, 202, ok.body)
  const job = (await app.app.inject({ url: ok.json<{ jobs: { url: string }[] }>().jobs[0]!.url })).json<{ model: unknown; status: string }>()
  assert.deepEqual(job.model, { name: NAME, version: 1 })
  assert.equal(job.status, 'queued')
  assert.equal((await submit(app, `${NAME}@1`)).statusCode, 202)
  // The built-in model is still what a job without ?model= runs on.
  const plain = await submit(app)
  const plainJob = (await app.app.inject({ url: plain.json<{ jobs: { url: string }[] }>().jobs[0]!.url })).json<{ model: unknown }>()
  assert.deepEqual(plainJob.model, { name: MOBILENET, version: 1 })
})

for (const store of STORES) test(`[${store}] a failed smoke test: the version says why, takes no label, and jobs for it are refused`, T, async (t) => {
  const app = await buildTestApp(t, { store })
  const v = (await upload(app, NAME, tm)).json<ModelVersionView>()
  await app.models.settle(v.id, { ok: false, reason: 'the worker page could not run it: Unknown layer', loadMs: 0, inferMs: 0, worker: 'p' })
  const m = await model(app, NAME)
  assert.deepEqual(m.labels, [])
  assert.equal(m.versions[0]!.state, 'failed')
  assert.match(m.versions[0]!.failureReason ?? '', /Unknown layer/)
  assert.match(problemOf(await submit(app, `${NAME}@1`), 409, 'VERSION_NOT_READY').detail, /Unknown layer/)
  problemOf(await submit(app, NAME), 404, 'MODEL_NOT_FOUND')
})

for (const store of STORES) test(`[${store}] later versions, labels, canaries and removal`, T, async (t) => {
  const app = await buildTestApp(t, { store })
  const v1 = await readyVersion(app, NAME, tm)
  const v2 = await readyVersion(app, NAME, tm2)
  assert.equal(v2.version, 2)
  assert.deepEqual(labelsOf(await model(app, NAME)), { default: '1' }, 'a later version does not displace default')

  const put_ = (label: string, body: unknown, headers: Headers = {}) => app.app.inject({ method: 'PUT', url: `/api/v1/models/${NAME}/labels/${label}`, payload: body as object, headers })
  const moved = await put_('default', { version: 2 })
  assert.equal(moved.statusCode, 200, moved.body)
  assert.deepEqual(labelsOf(moved.json<ModelView>()), { default: '2' })
  const onV2 = [(await submit(app, NAME)).json<{ jobs: { url: string }[] }>().jobs[0]!.url]
  assert.deepEqual((await app.app.inject({ url: onV2[0]! })).json<{ model: unknown }>().model, { name: NAME, version: 2 })
  // Rollback is the same call.
  assert.deepEqual(labelsOf((await put_('default', { version: 1 })).json<ModelView>()), { default: '1' })
  assert.deepEqual(labelsOf((await put_('stable', { version: 2 })).json<ModelView>()), { default: '1', stable: '2' })

  // An upload asking for a label takes it once ready, not before.
  const v3res = await upload(app, NAME, tm3, { label: 'stable' })
  assert.equal(v3res.statusCode, 202, v3res.body)
  const v3 = v3res.json<ModelVersionView>()
  assert.deepEqual(labelsOf(await model(app, NAME)), { default: '1', stable: '2' })
  problemOf(await put_('default', { version: 3 }), 409, 'VERSION_NOT_READY')
  problemOf(await put_('default', { version: 1, canary: { version: 3, percent: 10 } }), 409, 'VERSION_NOT_READY')
  problemOf(await put_('default', { version: 9 }), 404, 'MODEL_NOT_FOUND')
  problemOf(await put_('default', { version: 1, canary: { version: 9, percent: 10 } }), 404, 'MODEL_NOT_FOUND')
  await app.models.settle(v3.id, { ok: false, reason: 'outputs were NaN', loadMs: 1, inferMs: 1, worker: 'p' })
  assert.match(problemOf(await put_('default', { version: 3 }), 409, 'VERSION_NOT_READY').detail, /failed \(outputs were NaN\)/)
  assert.deepEqual(labelsOf(await model(app, NAME)), { default: '1', stable: '2' }, 'a failed version takes no label')

  // The canary body is checked before anything moves.
  for (const bad of [
    { version: 1, canary: { version: 2, percent: 101 } }, { version: 1, canary: { version: 2, percent: -1 } }, { version: 1, canary: { version: 2 } },
    { version: 0 }, { version: 'two' }, { canary: { version: 2, percent: 5 } }, { version: 1, canary: { version: 0, percent: 5 } },
  ]) {
    problemOf(await put_('default', bad), 400, 'VALIDATION_FAILED')
  }
  problemOf(await put_('Default', { version: 1 }), 400, 'VALIDATION_FAILED')
  assert.deepEqual(labelsOf(await model(app, NAME)), { default: '1', stable: '2' })
  const canary = await put_('default', { version: 1, canary: { version: 2, percent: 12.5 } })
  assert.equal(canary.statusCode, 200, canary.body)
  assert.deepEqual(labelsOf(canary.json<ModelView>()), { default: '1 (canary 2 at 12.5 %)', stable: '2' })
  assert.deepEqual(labelsOf((await put_('default', { version: 1, canary: null })).json<ModelView>()), { default: '1', stable: '2' })

  // Removal: not while a label points at it, then gone with its files.
  const del = (url: string) => app.app.inject({ method: 'DELETE', url: `/api/v1/models/${NAME}/${url}` })
  const fileUrl = (id: string, file: string) => `/models/v/${id}/${file}`
  assert.equal((await app.app.inject({ url: fileUrl(v2.id, 'model.json') })).statusCode, 200, 'read (and cached) before it is removed')
  assert.match(problemOf(await del('versions/2'), 409, 'MODEL_IN_USE').detail, /"stable"/)
  await put_('default', { version: 1, canary: { version: 2, percent: 5 } })
  assert.match(problemOf(await del('versions/2'), 409, 'MODEL_IN_USE').detail, /"default", "stable"/, 'a canary share counts')
  await put_('default', { version: 1 })
  const unlabelled = await del('labels/stable')
  assert.equal(unlabelled.statusCode, 200, unlabelled.body)
  assert.deepEqual(labelsOf(unlabelled.json<ModelView>()), { default: '1' })
  problemOf(await del('labels/stable'), 404, 'MODEL_NOT_FOUND')
  // Jobs still queued on it hold it.
  const queued = await submit(app, `${NAME}@2`)
  assert.equal(queued.statusCode, 202, queued.body)
  onV2.push(queued.json<{ jobs: { url: string }[] }>().jobs[0]!.url)
  assert.match(problemOf(await del('versions/2'), 409, 'MODEL_IN_USE').detail, /^2 unfinished job\(s\) run on tm-colours version 2/)
  for (const url of onV2) {
    const cancel = await app.app.inject({ method: 'DELETE', url })
    assert.equal(cancel.statusCode, 200, cancel.body)
  }
  const gone = await del('versions/2')
  assert.equal(gone.statusCode, 204, gone.body)
  assert.equal(gone.body, '')
  assert.deepEqual((await model(app, NAME)).versions.map((v) => v.version), [1, 3])
  problemOf(await del('versions/2'), 404, 'MODEL_NOT_FOUND')
  for (const file of ['descriptor.json', 'model.json', 'weights.bin']) {
    problemOf(await app.app.inject({ url: fileUrl(v2.id, file) }), 404, 'MODEL_NOT_FOUND')
  }
  // v1 shared weights.bin with v2 (same bytes, one stored copy): still whole.
  const weights = await app.app.inject({ url: fileUrl(v1.id, 'weights.bin') })
  assert.equal(weights.statusCode, 200)
  assert.deepEqual(weights.rawPayload, tm.find((f) => f.name === 'weights.bin')!.bytes)
  // The next upload is numbered after the last, not into the gap.
  const v4 = (await upload(app, NAME, tm2)).json<ModelVersionView>()
  assert.equal(v4.version, 4)
  problemOf(await del('versions/1'), 409, 'MODEL_IN_USE')
})

for (const store of STORES) test(`[${store}] a version's files: the descriptor and files immutable, each file's ETag its sha256`, T, async (t) => {
  const app = await buildTestApp(t, { store })
  const v = (await upload(app, NAME, tm)).json<ModelVersionView>()
  const d = await app.app.inject({ url: `/models/v/${v.id}/descriptor.json` })
  assert.equal(d.statusCode, 200)
  assert.equal(d.headers['cache-control'], 'public, max-age=31536000, immutable')
  const descriptor = d.json<{ id: string; name: string; version: number; format: string; files: { path: string; sha256: string; bytes: number }[]; outputs: number; labelOffset: number; softmax: boolean }>()
  assert.deepEqual({ ...descriptor, files: descriptor.files.map((f) => f.path) },
    { ...descriptor, id: v.id, name: NAME, version: 1, format: 'layers', outputs: 3, labelOffset: 0, softmax: false, files: ['model.json', 'weights.bin'] })
  for (const ref of descriptor.files) {
    const res = await app.app.inject({ url: `/models/v/${v.id}/${ref.path}` })
    assert.equal(res.statusCode, 200, ref.path)
    assert.deepEqual(res.rawPayload, tm.find((f) => f.name === ref.path)!.bytes)
    assert.equal(res.rawPayload.length, ref.bytes)
    assert.equal(res.headers.etag, `"${ref.sha256}"`)
    assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable')
    assert.equal(res.headers['content-type'], ref.path.endsWith('.json') ? 'application/json' : 'application/octet-stream')
    for (const ifNoneMatch of [`"${ref.sha256}"`, `W/"${ref.sha256}"`, `"${'0'.repeat(64)}", "${ref.sha256}"`, '*']) {
      const again = await app.app.inject({ url: `/models/v/${v.id}/${ref.path}`, headers: { 'if-none-match': ifNoneMatch } })
      assert.equal(again.statusCode, 304, `${ref.path} ${ifNoneMatch}`)
      assert.equal(again.body, '')
      assert.equal(again.headers.etag, `"${ref.sha256}"`)
    }
    const other = await app.app.inject({ url: `/models/v/${v.id}/${ref.path}`, headers: { 'if-none-match': `"${'0'.repeat(64)}"` } })
    assert.equal(other.statusCode, 200)
  }
  // The manifest is not one of the files a page loads; nor is anything else.
  problemOf(await app.app.inject({ url: `/models/v/${v.id}/metadata.json` }), 404, 'MODEL_NOT_FOUND')
  problemOf(await app.app.inject({ url: `/models/v/${'0'.repeat(64)}/model.json` }), 404, 'MODEL_NOT_FOUND')
  problemOf(await app.app.inject({ url: `/models/v/${'0'.repeat(64)}/descriptor.json` }), 404, 'MODEL_NOT_FOUND')
  assert.equal((await app.app.inject({ url: `/models/v/${v.id}/..%2Fmodel.json` })).statusCode, 400)
  assert.equal((await app.app.inject({ url: `/models/v/not-an-id/model.json` })).statusCode, 400)
})

const text = (s: string) => Buffer.from(s)
const refusals: { title: string; rule: ModelRule; file: string; files: () => UploadedModelFile[] }[] = [
  { title: 'model.json cut short', rule: 'bad-json', file: 'model.json', files: () => put(tm, 'model.json', text('{"format": "layers-model",')) },
  { title: 'a truncated shard', rule: 'shard-size', file: 'weights.bin', files: () => put(tm, 'weights.bin', tm.find((f) => f.name === 'weights.bin')!.bytes.subarray(0, 44)) },
  { title: 'a shard path leaving the folder', rule: 'shard-path', file: '../weights.bin', files: () => editModel(tm, (m) => { m.weightsManifest[0]!.paths = ['../weights.bin'] }) },
  { title: 'a script beside the model', rule: 'code', file: 'evil.js', files: () => put(tm, 'evil.js', text('globalThis.x = 1')) },
  { title: 'an HTML model.json', rule: 'code', file: 'model.json', files: () => put(tm, 'model.json', text('<html><script>alert(1)</script></html>')) },
  { title: 'an input size other than the model\'s', rule: 'input-shape', file: 'model.json', files: () => editJson(tm, 'metadata.json', (d) => { d.imageSize = 96 }) },
  { title: 'a file nobody reads', rule: 'unexpected-file', file: 'notes.txt', files: () => put(tm, 'notes.txt', text('trained on my cat')) },
]

for (const store of STORES) test(`[${store}] uploads are refused by rule (422 with problems[]), by media type (415) and by name (400); nothing is stored`, T, async (t) => {
  const app = await buildTestApp(t, { store })
  for (const r of refusals) {
    const p = problemOf(await upload(app, NAME, r.files()), 422, 'MODEL_INVALID')
    assert.ok(p.problems && p.problems.length > 0, r.title)
    const hit = p.problems.find((x) => x.rule === r.rule && x.file === r.file)
    assert.ok(hit, `${r.title}: ${r.rule} on ${r.file} in ${JSON.stringify(p.problems)}`)
    assert.ok(hit.message.length > 20, hit.message)
    assert.match(p.detail, /^the model was refused: /)
  }
  // Several problems at once are all listed, and the detail says how many more there are.
  const many = problemOf(await upload(app, NAME, put(put(tm, 'notes.txt', text('x')), 'evil.js', text('y'))), 422, 'MODEL_INVALID')
  assert.deepEqual(many.problems!.map((p) => `${p.rule} ${p.file}`).sort(), ['code evil.js', 'unexpected-file evil.js', 'unexpected-file notes.txt'])
  assert.match(many.detail, /\(and 2 more problems\)$/)

  const json = await app.app.inject({ method: 'POST', url: '/api/v1/models', payload: { name: NAME } })
  problemOf(json, 415, 'UNSUPPORTED_MEDIA_TYPE')
  const raw = await app.app.inject({ method: 'POST', url: '/api/v1/models', payload: tm[0]!.bytes, headers: { 'content-type': 'application/octet-stream' } })
  assert.equal(raw.statusCode, 415, raw.body)
  for (const name of ['', 'bad/name', '-dash-first', 'x'.repeat(65), 'spa ce', 'a@1']) {
    assert.match(problemOf(await upload(app, name, tm), 400, 'BAD_REQUEST').detail, /"name"/, name)
  }
  assert.match(problemOf(await upload(app, NAME, tm, { label: 'Stable' }), 400, 'BAD_REQUEST').detail, /"label"/)
  assert.deepEqual((await models(app)).map((m) => m.name), [MOBILENET], 'nothing refused was stored')
  const k = app.db.kysely
  const rows = [
    (await k.selectFrom('model_versions').select('id').execute()).length,
    (await k.selectFrom('model_files').select('path').execute()).length,
    (await k.selectFrom('model_labels').select('label').execute()).length,
  ]
  assert.deepEqual(rows, [1, 5, 1], 'the built-in model\'s rows only (one version, model.json and 4 shards, default)')
})

for (const store of STORES) test(`[${store}] an upload over MAX_MODEL_BYTES or with too many files is refused as a model, not as images`, T, async (t) => {
  const app = await buildTestApp(t, { store, env: { MAX_MODEL_BYTES: '1100' } })
  // model.json is 1030 bytes, weights.bin 48, metadata.json 247: each fits, not all together.
  const together = problemOf(await upload(app, NAME, tm), 422, 'MODEL_INVALID')
  assert.deepEqual(together.problems!.map((p) => `${p.rule} ${p.file}`), ['too-large (all files)'])
  assert.match(together.detail, /MAX_MODEL_BYTES \(1100 bytes\)/)
  const big = put(tm, 'weights.bin', Buffer.alloc(2000))
  const one = problemOf(await upload(app, NAME, big), 422, 'MODEL_INVALID')
  assert.deepEqual(one.problems!.map((p) => `${p.rule} ${p.file}`), ['too-large weights.bin'])
  assert.match(one.problems![0]!.message, /weights\.bin alone is over 1100 bytes/)
  const many = Array.from({ length: 201 }, (_, i) => ({ name: `group1-shard${i + 1}of201.bin`, bytes: Buffer.from([i]) }))
  const files = problemOf(await upload(app, NAME, many), 422, 'MODEL_INVALID')
  assert.match(files.problems![0]!.message, /more than 200 files/)
  assert.deepEqual((await models(app)).map((m) => m.name), [MOBILENET])
})

for (const store of STORES) test(`[${store}] model names differ by more than case: ${NAME.toUpperCase()} is not a second model beside ${NAME}`, T, async (t) => {
  const app = await buildTestApp(t, { store })
  await readyVersion(app, NAME, tm)
  // MariaDB compares names without case: another "model" would share the first one's rows and labels.
  const p = problemOf(await upload(app, NAME.toUpperCase(), tm2), 409, 'MODEL_EXISTS')
  assert.match(p.detail, new RegExp(NAME))
  assert.deepEqual(labelsOf(await model(app, NAME)), { default: '1' })
  assert.deepEqual((await model(app, NAME)).versions.map((v) => v.version), [1])
  // The model's own name, in its own case, takes the next version.
  assert.equal((await upload(app, NAME, tm2)).json<ModelVersionView>().version, 2)
})

for (const store of STORES) test(`[${store}] keys mode: any key reads the models; only an admin key uploads, moves labels and removes`, T, async (t) => {
  const app = await buildTestApp(t, { store, env: { AUTH_MODE: 'keys' } })
  const admin = { 'x-api-key': await app.apiKey('x', { admin: true }) }
  const plain = { 'x-api-key': await app.apiKey('y') }
  problemOf(await app.app.inject({ url: '/api/v1/models' }), 401, 'API_KEY_REQUIRED')
  assert.deepEqual((await models(app, plain)).map((m) => m.name), [MOBILENET])
  assert.equal((await app.app.inject({ url: `/api/v1/models/${MOBILENET}`, headers: plain })).statusCode, 200)

  assert.match(problemOf(await upload(app, NAME, tm, { headers: plain }), 403, 'ADMIN_KEY_REQUIRED').detail, /uploading a model needs an admin key/)
  problemOf(await upload(app, NAME, tm), 401, 'API_KEY_REQUIRED')
  const created = await upload(app, NAME, tm, { headers: admin })
  assert.equal(created.statusCode, 202, created.body)
  await app.models.settle(created.json<ModelVersionView>().id, { ok: true, reason: null, loadMs: 1, inferMs: 1, worker: 'p' })

  const label = (headers: Headers) => app.app.inject({ method: 'PUT', url: `/api/v1/models/${NAME}/labels/stable`, payload: { version: 1 }, headers })
  problemOf(await label(plain), 403, 'ADMIN_KEY_REQUIRED')
  assert.equal((await label(admin)).statusCode, 200)
  const del = (url: string, headers: Headers) => app.app.inject({ method: 'DELETE', url: `/api/v1/models/${NAME}/${url}`, headers })
  problemOf(await del('labels/stable', plain), 403, 'ADMIN_KEY_REQUIRED')
  problemOf(await del('versions/1', plain), 403, 'ADMIN_KEY_REQUIRED')
  assert.deepEqual(labelsOf((await models(app, plain)).find((m) => m.name === NAME)!), { default: '1', stable: '1' }, 'refused calls changed nothing')
  assert.equal((await del('labels/stable', admin)).statusCode, 200)
  assert.equal((await del('labels/default', admin)).statusCode, 200)
  assert.equal((await del('versions/1', admin)).statusCode, 204)
  // A plain key still submits jobs on whatever is there.
  assert.equal((await submit(app, undefined, plain)).statusCode, 202)
  // Worker pages load files without a key.
  const mn = (await models(app, plain))[0]!.versions[0]!
  assert.equal((await app.app.inject({ url: `/models/v/${mn.id}/descriptor.json` })).statusCode, 200)
})
