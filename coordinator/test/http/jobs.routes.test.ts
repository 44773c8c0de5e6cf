import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { findImages } from '../../src/db/image.repository.ts'
import { jpeg, tinyPng } from '../support/images.ts'
import { jpegClaiming, pngClaiming } from '../support/hostile-payloads.ts'
import { STORES } from '../support/databases.ts'
import { buildTestApp, multipart } from '../support/test-app.ts'

for (const store of STORES) test(`[${store}] one image answers 202 with one queued job that can be read back`, { timeout: 60_000 }, async (t) => {
  const { app } = await buildTestApp(t, { store })
  const res = await app.inject({ method: 'POST', url: '/api/v1/jobs', ...multipart([{ name: 'cat.jpg', data: jpeg() }]) })
  assert.equal(res.statusCode, 202)
  const body = res.json()
  assert.equal(body.jobs.length, 1)
  assert.equal(body.jobs[0].status, 'queued')
  assert.equal(body.jobs[0].filename, 'cat.jpg')
  assert.equal(res.headers.location, `/api/v1/jobs/${body.jobs[0].id}`)
  const job = (await app.inject({ url: `/api/v1/jobs/${body.jobs[0].id}` })).json()
  assert.equal(job.id, body.jobs[0].id)
  assert.equal(job.status, 'queued')
  assert.equal(job.contentType, 'image/jpeg')
  assert.equal(job.width, 496)
  assert.equal(job.height, 368)
  assert.equal(job.attempts, 0)
  assert.equal(job.result, null)
})

for (const store of STORES) test(`[${store}] several images in one request make one job each, their images in the database before the 202`, { timeout: 60_000 }, async (t) => {
  const { app, db } = await buildTestApp(t, { store })
  const res = await app.inject({
    method: 'POST', url: '/api/v1/jobs',
    ...multipart([{ name: 'a.jpg', data: jpeg() }, { name: 'b.png', type: 'image/png', data: tinyPng() }, { field: 'other', name: 'c.jpg', data: jpeg() }]),
  })
  assert.equal(res.statusCode, 202)
  const ids: string[] = res.json().jobs.map((j: { id: string }) => j.id)
  assert.equal(new Set(ids).size, 3)
  const stored = await findImages(db.kysely, ids)
  assert.deepEqual(ids.map((id) => stored.get(id)?.length), [jpeg().length, tinyPng().length, jpeg().length])
  const png = (await app.inject({ url: `/api/v1/jobs/${ids[1]}` })).json()
  assert.equal(png.contentType, 'image/png')
})

test('a request without an image is refused with 400 NO_IMAGE, and other media types with 415', async (t) => {
  const { app } = await buildTestApp(t)
  const empty = await app.inject({ method: 'POST', url: '/api/v1/jobs', ...multipart([], { note: 'hello' }) })
  assert.equal(empty.statusCode, 400)
  assert.equal(empty.headers['content-type'], 'application/problem+json; charset=utf-8')
  assert.equal(empty.json().code, 'NO_IMAGE')
  const xml = await app.inject({ method: 'POST', url: '/api/v1/jobs', payload: '<images/>', headers: { 'content-type': 'application/xml' } })
  assert.equal(xml.statusCode, 415)
  assert.equal(xml.json().code, 'UNSUPPORTED_MEDIA_TYPE')
})

for (const store of STORES) test(`[${store}] a file that is not an image is refused and nothing of the request is kept`, { timeout: 60_000 }, async (t) => {
  const { app, db } = await buildTestApp(t, { store })
  const res = await app.inject({
    method: 'POST', url: '/api/v1/jobs',
    ...multipart([{ name: 'ok.jpg', data: jpeg() }, { name: 'evil.jpg', data: Buffer.from('<html><script>alert(1)</script></html>') }]),
  })
  assert.equal(res.statusCode, 415)
  assert.equal(res.json().code, 'UNSUPPORTED_IMAGE_TYPE')
  assert.match(res.json().detail, /evil\.jpg/)
  assert.equal((await db.kysely.selectFrom('images').select('job_id').execute()).length, 0)
  assert.equal((await app.inject({ url: '/api/v1/jobs' })).json().jobs.length, 0)
})

test('an image over the size limit is refused with 413', async (t) => {
  const { app } = await buildTestApp(t, { env: { MAX_IMAGE_BYTES: '2048' } })
  const res = await app.inject({ method: 'POST', url: '/api/v1/jobs', ...multipart([{ name: 'big.jpg', data: jpeg() }]) })
  assert.equal(res.statusCode, 413)
  assert.equal(res.json().code, 'IMAGE_TOO_LARGE')
})

for (const store of STORES) test(`[${store}] an unknown job id answers 404 with a stable code`, { timeout: 60_000 }, async (t) => {
  const { app } = await buildTestApp(t, { store })
  for (const id of [randomUUID(), 'not-a-uuid']) {
    const res = await app.inject({ url: `/api/v1/jobs/${id}` })
    assert.equal(res.statusCode, 404)
    assert.equal(res.json().code, 'JOB_NOT_FOUND')
  }
})

for (const store of STORES) test(`[${store}] the list is newest first, paginated by cursor, and filtered by status`, { timeout: 60_000 }, async (t) => {
  const { app } = await buildTestApp(t, { store })
  const ids: string[] = []
  for (let i = 0; i < 5; i++) {
    const r = await app.inject({ method: 'POST', url: '/api/v1/jobs', ...multipart([{ name: `${i}.png`, type: 'image/png', data: tinyPng() }]) })
    ids.push(r.json().jobs[0].id)
  }
  const p1 = (await app.inject({ url: '/api/v1/jobs?limit=2' })).json()
  assert.deepEqual(p1.jobs.map((j: { id: string }) => j.id), [ids[4], ids[3]])
  const p2 = (await app.inject({ url: `/api/v1/jobs?limit=2&cursor=${p1.nextCursor}` })).json()
  const p3 = (await app.inject({ url: `/api/v1/jobs?limit=2&cursor=${p2.nextCursor}` })).json()
  assert.deepEqual([...p2.jobs, ...p3.jobs].map((j: { id: string }) => j.id), [ids[2], ids[1], ids[0]])
  assert.equal(p3.nextCursor, null)
  assert.equal((await app.inject({ url: '/api/v1/jobs?status=succeeded' })).json().jobs.length, 0)
  assert.equal((await app.inject({ url: '/api/v1/jobs?status=queued' })).json().jobs.length, 5)
  const bad = await app.inject({ url: '/api/v1/jobs?status=exploded' })
  assert.equal(bad.statusCode, 400)
  assert.equal(bad.json().code, 'VALIDATION_FAILED')
})

for (const store of STORES) test(`[${store}] ?wait returns after the wait when the job is still queued`, { timeout: 60_000 }, async (t) => {
  const { app } = await buildTestApp(t, { store })
  const id = (await app.inject({ method: 'POST', url: '/api/v1/jobs', ...multipart([{ name: 'a.png', type: 'image/png', data: tinyPng() }]) })).json().jobs[0].id
  const started = Date.now()
  const res = await app.inject({ url: `/api/v1/jobs/${id}?wait=0.3` })
  assert.equal(res.json().status, 'queued')
  assert.ok(Date.now() - started >= 250, 'it waited')
})

for (const store of STORES) test(`[${store}] health, readiness, the worker page and the model files are served`, { timeout: 60_000 }, async (t) => {
  const { app, models } = await buildTestApp(t, { store })
  assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200)
  const ready = await app.inject({ url: '/readyz' })
  assert.equal(ready.statusCode, 200)
  assert.deepEqual(ready.json().checks, { database: 'ok', migrations: 'ok', model: 'ok' })
  const page = await app.inject({ url: '/worker' })
  assert.equal(page.statusCode, 200)
  assert.equal(page.headers['cross-origin-embedder-policy'], 'require-corp')
  // The built-in model was imported as version 1 and is what pages preload.
  const builtIn = await models.find()
  assert.deepEqual([builtIn.name, builtIn.version, builtIn.state], ['mobilenet_v2_1.0_224', 1, 'ready'])
  assert.deepEqual((await app.inject({ url: '/worker/config.json' })).json().preload, [builtIn.id])
  const descriptor = await app.inject({ url: `/models/v/${builtIn.id}/descriptor.json` })
  assert.equal(descriptor.json().outputs, 1001)
  const modelJson = await app.inject({ url: `/models/v/${builtIn.id}/model.json` })
  assert.equal(modelJson.statusCode, 200)
  assert.match(String(modelJson.headers['cache-control']), /immutable/)
  const etag = String(modelJson.headers.etag)
  assert.equal((await app.inject({ url: `/models/v/${builtIn.id}/model.json`, headers: { 'if-none-match': etag } })).statusCode, 304)
  const shard = descriptor.json().files[1]
  const bytes = await app.inject({ url: `/models/v/${builtIn.id}/${shard.path}` })
  assert.equal(bytes.rawPayload.length, shard.bytes, 'a shard comes back whole from its chunks')
  const secret = await app.inject({ url: `/models/v/${builtIn.id}/PROVENANCE.md` })
  assert.equal(secret.statusCode, 404)
  const dashboard = await app.inject({ url: '/' })
  assert.equal(dashboard.statusCode, 200)
  assert.match(dashboard.body, /Hivesight/)
  const unknown = await app.inject({ url: '/nope' })
  assert.equal(unknown.statusCode, 404)
  assert.equal(unknown.json().code, 'NOT_FOUND')
})

test('pixel bombs (a valid header claiming huge dimensions) are refused from the header, before any decode', async (t) => {
  const { app } = await buildTestApp(t)
  for (const [name, data] of [['bomb.png', pngClaiming(14_000, 14_000)], ['bomb.jpg', jpegClaiming(20_000, 300)]] as const) {
    const res = await app.inject({ method: 'POST', url: '/api/v1/jobs', ...multipart([{ name, data }]) })
    assert.equal(res.statusCode, 422, name)
    assert.equal(res.json().code, 'IMAGE_TOO_MANY_PIXELS')
  }
  const ok = await app.inject({ method: 'POST', url: '/api/v1/jobs', ...multipart([{ name: 'fine.png', data: pngClaiming(4_000, 3_000) }]) })
  assert.equal(ok.statusCode, 202)
})

test('every answer says nosniff and carries its request id; API answers are never cached', { timeout: 30_000 }, async (t) => {
  const { app } = await buildTestApp(t)
  const submit = await app.inject({ method: 'POST', url: '/api/v1/jobs', ...multipart([{ name: 'cat.jpg', data: jpeg() }]) })
  const missing = await app.inject({ url: '/api/v1/jobs/nope' })
  const health = await app.inject({ url: '/healthz' })
  for (const res of [submit, missing, health]) {
    assert.equal(res.headers['x-content-type-options'], 'nosniff', `${res.statusCode} ${res.body.slice(0, 80)}`)
    assert.match(String(res.headers['x-request-id']), /\S/)
  }
  assert.notEqual(submit.headers['x-request-id'], missing.headers['x-request-id'], 'one id per request')
  assert.equal(submit.headers['cache-control'], 'no-store')
  assert.equal(missing.headers['cache-control'], 'no-store', 'errors too')
  assert.notEqual(health.headers['cache-control'], 'no-store', 'only /api/ answers are marked')
})
