import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import swagger from '@fastify/swagger'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify from 'fastify'
import { ApiKeyVerifier, createApiKey } from '../../src/auth/api-keys.ts'
import { DEFAULT_PIXEL_LIMITS } from '../../src/images/image-inspector.ts'
import { errorHandler } from '../../src/http/error-handler.ts'
import { oipRoutes, type OipRoutesOptions } from '../../src/http/oip.routes.ts'
import { freshDb } from '../support/databases.ts'
import { failed, FakeJobs, FakeModels, queued, succeeded } from '../support/fake-classify.ts'
import { decodablePng } from '../support/images.ts'

async function oipApp(t: TestContext, opts: Partial<OipRoutesOptions> & { swagger?: boolean } = {}) {
  const { db, close } = await freshDb('sqlite')
  const models = new FakeModels()
  const jobs = new FakeJobs(models)
  const app = Fastify({ logger: false }).withTypeProvider<TypeBoxTypeProvider>()
  app.setErrorHandler(errorHandler)
  if (opts.swagger) await app.register(swagger, { openapi: { openapi: '3.0.3', info: { title: 't', version: '1' } } })
  await app.register(oipRoutes, {
    models, jobs, pixelLimits: DEFAULT_PIXEL_LIMITS, maxImageBytes: 1024 * 1024, maxImages: 8, maxWaitSeconds: 2,
    authMode: 'open', verifier: new ApiKeyVerifier(db), ready: async () => true, ...opts,
  })
  t.after(async () => {
    await app.close()
    await close()
  })
  return { app, models, jobs, db }
}

const b64 = async (r: number) => (await decodablePng(r, 10, 10)).toString('base64')

test('health: live always; ready when the server is and its default model version is', { timeout: 30_000 }, async (t) => {
  const { app, models } = await oipApp(t)
  assert.deepEqual((await app.inject({ url: '/v2/health/live' })).json(), { live: true })
  const ready = await app.inject({ url: '/v2/health/ready' })
  assert.equal(ready.statusCode, 200)
  assert.deepEqual(ready.json(), { ready: true })
  models.labels.mobilenet!.default = 3 // a default label on a version that does not resolve
  const gone = await app.inject({ url: '/v2/health/ready' })
  assert.equal(gone.statusCode, 503)
  assert.deepEqual(gone.json(), { ready: false })
  const server = await app.inject({ url: '/v2' })
  assert.deepEqual(server.json().extensions, ['classification'])

  const { app: down } = await oipApp(t, { ready: async () => false })
  assert.equal((await down.inject({ url: '/v2/health/ready' })).statusCode, 503)
})

test('model metadata: versions, the BYTES image input and the classification output; 404 for an unknown model', { timeout: 30_000 }, async (t) => {
  const { app } = await oipApp(t)
  const meta = await app.inject({ url: '/v2/models/mobilenet' })
  assert.equal(meta.statusCode, 200)
  const body = meta.json()
  assert.equal(body.name, 'mobilenet')
  assert.deepEqual(body.versions, ['1', '2'])
  assert.equal(body.platform, 'tensorflowjs')
  assert.deepEqual(body.inputs, [{ name: 'image', datatype: 'BYTES', shape: [-1] }])
  assert.deepEqual(body.outputs, [{ name: 'classification', datatype: 'BYTES', shape: [-1, -1] }])
  assert.equal(body.parameters.version, '2', 'the default label')
  assert.equal(body.parameters.input_size, 224)
  assert.equal(body.parameters.class_count, 6)
  const pinned = await app.inject({ url: '/v2/models/mobilenet/versions/1' })
  assert.deepEqual(pinned.json().versions, ['1'])
  for (const url of ['/v2/models/nosuch', '/v2/models/mobilenet/versions/9']) {
    const res = await app.inject({ url })
    assert.equal(res.statusCode, 404, url)
    assert.deepEqual(Object.keys(res.json()), ['error'])
  }
  assert.equal((await app.inject({ url: '/v2/models/mobilenet@2/versions/2' })).statusCode, 400, 'a version given twice')
})

test('model ready: 200 {name, ready: true}; a version still validating is 400 {ready: false} (a 4xx, as the spec says)', { timeout: 30_000 }, async (t) => {
  const { app } = await oipApp(t)
  const ok = await app.inject({ url: '/v2/models/mobilenet/ready' })
  assert.equal(ok.statusCode, 200)
  assert.deepEqual(ok.json(), { name: 'mobilenet', ready: true })
  assert.equal((await app.inject({ url: '/v2/models/mobilenet/versions/1/ready' })).statusCode, 200)
  const validating = await app.inject({ url: '/v2/models/flowers/ready' })
  assert.equal(validating.statusCode, 400)
  assert.deepEqual(validating.json(), { name: 'flowers', ready: false })
  assert.equal((await app.inject({ url: '/v2/models/nosuch/ready' })).statusCode, 404)
})

test('infer: two images, classification k=3 → shape [2, 3] of "score:index:label", one job per image submitted together', { timeout: 30_000 }, async (t) => {
  const { app, jobs, models } = await oipApp(t)
  // The second image ran on version 1 (say, a canary): its indexes come from version 1's labels.
  const v1 = await models.find('mobilenet@1')
  let n = 0
  jobs.outcome = (id, v) => (n++ === 1 ? succeeded(id, v1) : succeeded(id, v))
  const res = await app.inject({
    method: 'POST', url: '/v2/models/mobilenet/infer',
    payload: {
      id: 'req-42',
      inputs: [{ name: 'image', shape: [2, 1], datatype: 'BYTES', data: [[await b64(200)], [await b64(20)]] }],
      outputs: [{ name: 'classification', parameters: { classification: 3 } }],
    },
  })
  assert.equal(res.statusCode, 200, res.body)
  const body = res.json()
  assert.equal(body.model_name, 'mobilenet')
  assert.equal(body.model_version, '2')
  assert.equal(body.id, 'req-42')
  assert.equal(body.parameters.model_versions, '2,1')
  assert.deepEqual(body.outputs, [{
    name: 'classification', datatype: 'BYTES', shape: [2, 3],
    data: ['0.62:1:tabby', '0.2:2:tiger cat', '0.1:3:Egyptian cat', '0.62:4:tabby', '0.2:3:tiger cat', '0.1:2:Egyptian cat'],
  }])
  assert.equal(jobs.submitted.length, 1, 'one submit for both images')
  assert.equal(jobs.submitted[0]!.images.length, 2)
  assert.equal(jobs.submitted[0]!.model, 'mobilenet')
  assert.equal(body.parameters.job_ids.split(',').length, 2)

  const pinned = await app.inject({
    method: 'POST', url: '/v2/models/mobilenet/versions/2/infer',
    payload: { inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', data: [await b64(90)] }] },
  })
  assert.equal(pinned.statusCode, 200)
  assert.equal(jobs.submitted[1]!.model, 'mobilenet@2')
  assert.deepEqual(pinned.json().outputs[0].shape, [1, 5], 'without a classification parameter: all five')
  assert.equal(typeof pinned.json().id, 'string')
})

test('infer errors are {"error"}: bad base64, wrong tensors and HTML are 400; a validating model and an unfinished job 503', { timeout: 30_000 }, async (t) => {
  const { app, jobs } = await oipApp(t)
  const png = await b64(1)
  const infer = (input: Record<string, unknown>, extra: Record<string, unknown> = {}, model = 'mobilenet') =>
    app.inject({ method: 'POST', url: `/v2/models/${model}/infer`, payload: { inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', data: [png], ...input }], ...extra } })
  const bad: [string, Awaited<ReturnType<typeof infer>>][] = [
    ['not base64', await infer({ data: ['***not base64***'] })],
    ['HTML, base64', await infer({ data: [Buffer.from('<html></html>').toString('base64')] })],
    ['FP32 data', await infer({ datatype: 'FP32', data: [0.5] })],
    ['a shape that does not match', await infer({ shape: [2] })],
    ['numbers in a BYTES tensor', await infer({ data: [12] })],
    ['an unknown output', await infer({}, { outputs: [{ name: 'logits' }] })],
    ['classification 0', await infer({}, { outputs: [{ name: 'classification', parameters: { classification: 0 } }] })],
    ['no inputs', await app.inject({ method: 'POST', url: '/v2/models/mobilenet/infer', payload: { inputs: [] } })],
  ]
  for (const [what, res] of bad) {
    assert.equal(res.statusCode, 400, what)
    assert.deepEqual(Object.keys(res.json()), ['error'], what)
  }
  assert.equal(jobs.submitted.length, 0)

  assert.equal((await infer({}, {}, 'nosuch')).statusCode, 404)
  const validating = await infer({}, {}, 'flowers')
  assert.equal(validating.statusCode, 503)
  assert.equal(validating.headers['retry-after'], '5')
  jobs.outcome = (id) => queued(id)
  const slow = await infer({})
  assert.equal(slow.statusCode, 503)
  assert.match(slow.json().error, /did not finish within 2 s/)
  jobs.outcome = (id) => failed(id, 'IMAGE_DECODE_FAILED')
  assert.equal((await infer({})).statusCode, 400, 'an image no worker could decode')
})

test('keys mode: model routes need a key, probes do not', { timeout: 30_000 }, async (t) => {
  const { db, close } = await freshDb('sqlite')
  t.after(close)
  const { app } = await oipApp(t, { authMode: 'keys', verifier: new ApiKeyVerifier(db) })
  const { key } = await createApiKey(db, 'triton-client', Date.now())
  assert.equal((await app.inject({ url: '/v2/health/ready' })).statusCode, 200)
  const none = await app.inject({ url: '/v2/models/mobilenet' })
  assert.equal(none.statusCode, 401)
  assert.ok(none.json().error)
  assert.equal((await app.inject({ url: '/v2/models/mobilenet', headers: { authorization: `Bearer ${key}` } })).statusCode, 200)
})

test('the OIP routes are in the OpenAPI document', { timeout: 30_000 }, async (t) => {
  const { app } = await oipApp(t, { swagger: true })
  await app.ready()
  const doc = app.swagger()
  const paths = 'paths' in doc ? doc.paths ?? {} : {}
  for (const path of ['/v2/health/live', '/v2/health/ready', '/v2/models/{name}', '/v2/models/{name}/versions/{version}/ready', '/v2/models/{name}/infer', '/v2/models/{name}/versions/{version}/infer']) {
    assert.ok(paths[path], path)
  }
})
