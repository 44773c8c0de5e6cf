import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import cors from '@fastify/cors'
import multipart from '@fastify/multipart'
import swagger from '@fastify/swagger'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { imageClassification, InferenceClient, InferenceClientProviderApiError } from '@huggingface/inference'
import Fastify from 'fastify'
import { ApiKeyVerifier, createApiKey } from '../../src/auth/api-keys.ts'
import { DEFAULT_PIXEL_LIMITS } from '../../src/images/image-inspector.ts'
import { errorHandler } from '../../src/http/error-handler.ts'
import { hfRoutes, type HfRoutesOptions } from '../../src/http/hf.routes.ts'
import { freshDb } from '../support/databases.ts'
import { failed, FakeJobs, FakeModels, queued, succeeded } from '../support/fake-classify.ts'
import { pngClaiming } from '../support/hostile-payloads.ts'
import { decodablePng } from '../support/images.ts'

const LISTED_ORIGIN = 'https://dashboard.example'

/** The plugin on a bare Fastify set up like app.ts around it: error handler, app-wide CORS for listed origins, multipart. */
async function hfApp(t: TestContext, opts: Partial<HfRoutesOptions> & { swagger?: boolean } = {}) {
  const { db, close } = await freshDb('sqlite')
  const models = new FakeModels()
  const jobs = new FakeJobs(models)
  const app = Fastify({ logger: false }).withTypeProvider<TypeBoxTypeProvider>()
  app.setErrorHandler(errorHandler)
  await app.register(cors, { origin: [LISTED_ORIGIN], credentials: false })
  if (opts.swagger) await app.register(swagger, { openapi: { openapi: '3.0.3', info: { title: 't', version: '1' } } })
  await app.register(multipart)
  // A native route beside the plugin: it must keep the listed-origins-only policy.
  app.post('/api/v1/jobs', async () => ({ ok: true }))
  await app.register(hfRoutes, {
    jobs, pixelLimits: DEFAULT_PIXEL_LIMITS, maxImageBytes: 1024 * 1024, maxWaitSeconds: 2,
    authMode: 'keys', verifier: new ApiKeyVerifier(db), notReadyHoldMs: 0, ...opts,
  })
  t.after(async () => {
    await app.close()
    await close()
  })
  const { key, id: keyId } = await createApiKey(db, 'hf-client', Date.now())
  return { app, jobs, key, keyId, auth: { authorization: `Bearer ${key}` } }
}

const blobOf = (bytes: Buffer, type?: string) => new Blob([new Uint8Array(bytes)], type ? { type } : {})

async function listen(app: Awaited<ReturnType<typeof hfApp>>['app']): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  if (!address || typeof address === 'string') throw new Error('no address')
  return `http://127.0.0.1:${address.port}`
}

test('the @huggingface/inference client classifies through endpointUrl: top_k, @VERSION as %40, a Blob without a type', { timeout: 30_000 }, async (t) => {
  const { app, jobs, key, keyId } = await hfApp(t)
  const url = await listen(app)
  const png = await decodablePng()
  // The client POSTs to endpointUrl verbatim (query included) with the Blob as the body and Authorization: Bearer.
  const sent: { url: string; headers: Headers }[] = []
  const recording: typeof fetch = async (input, init) => {
    sent.push({ url: String(input), headers: new Headers(init?.headers) })
    return fetch(input, init)
  }
  const client = new InferenceClient(key, { endpointUrl: `${url}/api/v1/models/mobilenet?top_k=3`, fetch: recording })
  const top3 = await client.imageClassification({ inputs: blobOf(png, 'image/png') })
  assert.equal(sent[0]!.url, `${url}/api/v1/models/mobilenet?top_k=3`)
  assert.equal(sent[0]!.headers.get('authorization'), `Bearer ${key}`)
  assert.deepEqual(top3, [{ label: 'tabby', score: 0.62 }, { label: 'tiger cat', score: 0.2 }, { label: 'Egyptian cat', score: 0.1 }])
  assert.equal(jobs.submitted[0]!.model, 'mobilenet')
  assert.equal(jobs.submitted[0]!.owner, keyId)
  assert.equal(jobs.submitted[0]!.images[0]!.info.contentType, 'image/png')
  assert.deepEqual(jobs.waits[0]!.scope, { owner: keyId })
  assert.equal(jobs.waits[0]!.waitMs, 2000)

  // fetch sends an untyped Blob without Content-Type; the type comes from the bytes anyway.
  const all = await imageClassification({ accessToken: key, endpointUrl: `${url}/api/v1/models/mobilenet%402`, inputs: blobOf(png) }, { fetch: recording })
  assert.equal(sent[1]!.headers.get('content-type'), null, 'no Content-Type from the client (fetch adds a Blob\'s type only when it has one)')
  assert.equal(all.length, 5)
  assert.equal(jobs.submitted[1]!.model, 'mobilenet@2')
  assert.ok(all.every((p, i) => i === 0 || p.score <= all[i - 1]!.score), 'best first')
})

test('an image still queued after the wait is a 503 the client retries, and the retry waits for the same job', { timeout: 30_000 }, async (t) => {
  const { app, jobs, key } = await hfApp(t)
  jobs.outcome = (id, v, waitsForIt) => (waitsForIt === 1 ? queued(id) : succeeded(id, v))
  const url = await listen(app)
  // The client retries a 503 at once (retry_on_error defaults to true).
  const out = await new InferenceClient(key, { endpointUrl: `${url}/api/v1/models/mobilenet` }).imageClassification({ inputs: blobOf(await decodablePng()) })
  assert.equal(out[0]!.label, 'tabby')
  assert.equal(jobs.submitted.length, 1, 'queued once')
  assert.equal(jobs.waits.length, 2)
  assert.equal(jobs.waits[0]!.id, jobs.waits[1]!.id)
})

test('a version still validating: 503 in HF shape with estimated_time and Retry-After; unknown model 404', { timeout: 30_000 }, async (t) => {
  const { app, jobs, key, auth } = await hfApp(t, { notReadyHoldMs: 150 })
  const url = await listen(app)
  const png = await decodablePng()
  const err = await new InferenceClient(key, { endpointUrl: `${url}/api/v1/models/flowers` })
    .imageClassification({ inputs: blobOf(png) }, { retry_on_error: false })
    .then(() => assert.fail('no 503'), (e: unknown) => e)
  assert.ok(err instanceof InferenceClientProviderApiError)
  assert.equal(err.httpResponse.status, 503)
  assert.deepEqual(err.httpResponse.body, { error: 'Model flowers is currently loading', estimated_time: 5 })
  assert.equal(jobs.submitted.length, 0)

  const started = performance.now()
  const res = await app.inject({ method: 'POST', url: '/api/v1/models/flowers@default', payload: png, headers: { ...auth, 'content-type': 'image/png' } })
  assert.equal(res.statusCode, 503)
  assert.ok(performance.now() - started >= 140, 'held, so the client\'s instant retries do not spin')
  assert.equal(res.headers['retry-after'], '5')
  assert.equal(res.json().estimated_time, 5)

  const unknown = await app.inject({ method: 'POST', url: '/api/v1/models/nosuch', payload: png, headers: { ...auth, 'content-type': 'image/png' } })
  assert.equal(unknown.statusCode, 404)
  assert.match(String(unknown.headers['content-type']), /^application\/json/)
  assert.deepEqual(Object.keys(unknown.json()), ['error'])
  assert.match(unknown.json().error, /nosuch/)
})

test('bad images and bodies answer {"error"} with 400, 413, 415 or 422; no job is made', { timeout: 30_000 }, async (t) => {
  const { app, jobs, auth } = await hfApp(t, { maxImageBytes: 64 * 1024 })
  const post = (payload: string | Buffer, type?: string) =>
    app.inject({ method: 'POST', url: '/api/v1/models/mobilenet', payload, headers: { ...auth, ...(type ? { 'content-type': type } : {}) } })
  const cases: [string, Promise<{ statusCode: number; json: () => { error?: unknown } }>, number][] = [
    ['HTML sent as a JPEG', post(Buffer.from('<html><script>alert(1)</script></html>'), 'image/jpeg'), 415],
    ['a PNG header claiming 10⁹ pixels', post(pngClaiming(40_000, 25_000), 'application/octet-stream'), 422],
    ['an empty image', post(Buffer.alloc(0), 'image/png'), 422],
    ['a form', post('a=1', 'application/x-www-form-urlencoded'), 415],
    ['text', post('hello', 'text/plain'), 415],
    ['JSON that is not base64', post(JSON.stringify({ inputs: 'not base64!' }), 'application/json'), 400],
    ['JSON of another shape', post(JSON.stringify({ image: 'aGk=' }), 'application/json'), 400],
    ['over maxImageBytes', post(Buffer.alloc(65 * 1024, 1), 'image/jpeg'), 413],
  ]
  for (const [what, res, status] of cases) {
    const r = await res
    assert.equal(r.statusCode, status, what)
    assert.equal(typeof r.json().error, 'string', what)
  }
  assert.equal(jobs.submitted.length, 0)
})

test('the JSON form {"inputs": base64, "parameters": {"top_k"}} (huggingface_hub) works too', { timeout: 30_000 }, async (t) => {
  const { app, auth } = await hfApp(t)
  const inputs = (await decodablePng()).toString('base64')
  const res = await app.inject({ method: 'POST', url: '/api/v1/models/mobilenet?top_k=4', payload: { inputs, parameters: { top_k: 2, function_to_apply: 'softmax' } }, headers: auth })
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json().map((p: { label: string }) => p.label), ['tabby', 'tiger cat'])
  const dataUrl = await app.inject({ method: 'POST', url: '/api/v1/models/mobilenet?top_k=9', payload: { inputs: `data:image/png;base64,${inputs}` }, headers: auth })
  assert.equal(dataUrl.json().length, 5, 'top_k beyond what is known answers all there is')
})

test('jobs that end badly: a decode failure is 422, a dead job 500, both {"error"}', { timeout: 30_000 }, async (t) => {
  const { app, jobs, auth } = await hfApp(t)
  const png = await decodablePng()
  jobs.outcome = (id) => failed(id, 'IMAGE_DECODE_FAILED')
  const decode = await app.inject({ method: 'POST', url: '/api/v1/models/mobilenet', payload: png, headers: { ...auth, 'content-type': 'image/png' } })
  assert.equal(decode.statusCode, 422)
  assert.match(decode.json().error, /could not be classified/)
  jobs.outcome = (id) => failed(id, 'INFERENCE_FAILED', 'dead')
  const dead = await app.inject({ method: 'POST', url: '/api/v1/models/mobilenet', payload: png, headers: { ...auth, 'content-type': 'image/png' } })
  assert.equal(dead.statusCode, 500)
  assert.match(dead.json().error, /dead/)
})

test('CORS: any origin may call these routes (preflight without a key, errors readable); other routes keep the listed origins', { timeout: 30_000 }, async (t) => {
  const { app, auth } = await hfApp(t)
  const origin = 'https://some-notebook.example'
  const preflight = await app.inject({
    method: 'OPTIONS', url: '/api/v1/models/mobilenet%40default',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, user-agent' },
  })
  assert.equal(preflight.statusCode, 204)
  assert.equal(preflight.headers['access-control-allow-origin'], '*')
  assert.equal(preflight.headers['access-control-allow-credentials'], undefined)
  // This plugin's preflight answer, not the app-wide plugin's (which would reflect the headers and omit max-age).
  assert.equal(preflight.headers['access-control-allow-methods'], 'POST, OPTIONS')
  assert.equal(preflight.headers['access-control-max-age'], '600')
  for (const h of ['authorization', 'content-type', 'user-agent']) assert.match(String(preflight.headers['access-control-allow-headers']), new RegExp(h))

  const unauthenticated = await app.inject({ method: 'POST', url: '/api/v1/models/mobilenet', payload: await decodablePng(), headers: { origin, 'content-type': 'image/png' } })
  assert.equal(unauthenticated.statusCode, 401)
  assert.equal(unauthenticated.headers['access-control-allow-origin'], '*')
  assert.ok(unauthenticated.json().error)
  const ok = await app.inject({ method: 'POST', url: '/api/v1/models/mobilenet', payload: await decodablePng(), headers: { ...auth, origin, 'content-type': 'image/png' } })
  assert.equal(ok.statusCode, 200)
  assert.equal(ok.headers['access-control-allow-origin'], '*')
  assert.match(String(ok.headers['access-control-expose-headers']), /retry-after/)

  // The app-wide policy is untouched elsewhere: listed origins only, never *.
  const other = await app.inject({ method: 'OPTIONS', url: '/api/v1/jobs', headers: { origin, 'access-control-request-method': 'POST' } })
  assert.notEqual(other.headers['access-control-allow-origin'], '*')
  assert.notEqual(other.headers['access-control-allow-origin'], origin)
  const listed = await app.inject({ method: 'OPTIONS', url: '/api/v1/jobs', headers: { origin: LISTED_ORIGIN, 'access-control-request-method': 'POST' } })
  assert.equal(listed.headers['access-control-allow-origin'], LISTED_ORIGIN)
})

test('the route is in the OpenAPI document with its body types', { timeout: 30_000 }, async (t) => {
  const { app } = await hfApp(t, { swagger: true })
  await app.ready()
  const doc = app.swagger()
  const path = 'paths' in doc ? doc.paths?.['/api/v1/models/{name}'] : undefined
  const post = path?.post
  assert.ok(post, 'documented')
  const body = 'requestBody' in post ? post.requestBody : undefined
  assert.deepEqual(Object.keys(body && 'content' in body ? body.content : {}).sort(), ['application/json', 'application/octet-stream', 'image/*'])
  assert.ok(post.responses?.['503'])
  assert.equal(path?.options, undefined, 'the preflight route is hidden')
})
