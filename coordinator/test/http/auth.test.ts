import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createApiKey } from '../../src/auth/api-keys.ts'
import { createDb } from '../../src/db/create-db.ts'
import { tinyPng } from '../support/images.ts'
import { buildTestApp, multipart } from '../support/test-app.ts'
import { freshStore, STORES } from '../support/databases.ts'

const upload = () => multipart([{ name: 'a.png', type: 'image/png', data: tinyPng() }])
const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

for (const store of STORES) test(`[${store}] with AUTH_MODE=keys every job route needs a valid key, sent in a header, never in the URL`, { timeout: 60_000 }, async (t) => {
  const app = await buildTestApp(t, { store, env: { AUTH_MODE: 'keys' } })
  const { key } = await createApiKey(app.db, 'alice', Date.now())
  const body = upload()
  const none = await app.app.inject({ method: 'POST', url: '/api/v1/jobs', payload: body.payload, headers: body.headers })
  assert.equal(none.statusCode, 401)
  assert.equal(none.json().code, 'API_KEY_REQUIRED')
  assert.match(none.json().detail, /npm run keys/)
  const bad = await app.app.inject({ method: 'POST', url: '/api/v1/jobs', payload: body.payload, headers: { ...body.headers, ...bearer('hs_' + 'x'.repeat(32)) } })
  assert.equal(bad.statusCode, 401)
  assert.equal(bad.json().code, 'API_KEY_INVALID')
  const inUrl = await app.app.inject({ url: `/api/v1/jobs?api_key=${key}` })
  assert.equal(inUrl.statusCode, 400)
  assert.equal(inUrl.json().code, 'API_KEY_IN_URL')
  const ok = await app.app.inject({ method: 'POST', url: '/api/v1/jobs', payload: body.payload, headers: { ...body.headers, 'x-api-key': key } })
  assert.equal(ok.statusCode, 202)
  for (const url of ['/healthz', '/readyz', '/api/v1/openapi.json', '/metrics']) {
    assert.equal((await app.app.inject({ url })).statusCode, 200, `${url} stays open`)
  }
  // Who works for this coordinator (names, networks, quarantines) is for key holders only.
  assert.equal((await app.app.inject({ url: '/api/v1/workers' })).statusCode, 401)
  assert.equal((await app.app.inject({ url: '/api/v1/workers', headers: bearer(key) })).statusCode, 200)
})

for (const store of STORES) test(`[${store}] a key sees only its own jobs: another key's job is a 404 everywhere`, { timeout: 60_000 }, async (t) => {
  const app = await buildTestApp(t, { store, env: { AUTH_MODE: 'keys' } })
  const alice = (await createApiKey(app.db, 'alice', Date.now())).key
  const bob = (await createApiKey(app.db, 'bob', Date.now())).key
  const body = upload()
  const id = (await app.app.inject({ method: 'POST', url: '/api/v1/jobs', payload: body.payload, headers: { ...body.headers, ...bearer(alice) } })).json().jobs[0].id
  assert.equal((await app.app.inject({ url: `/api/v1/jobs/${id}`, headers: bearer(alice) })).statusCode, 200)
  for (const [method, url] of [['GET', `/api/v1/jobs/${id}`], ['GET', `/api/v1/jobs/${id}?wait=0.1`], ['DELETE', `/api/v1/jobs/${id}`], ['POST', `/api/v1/jobs/${id}/retry`]] as const) {
    const res = await app.app.inject({ method, url, headers: bearer(bob) })
    assert.equal(res.statusCode, 404, `${method} ${url}`)
    assert.equal(res.json().code, 'JOB_NOT_FOUND')
  }
  assert.equal((await app.app.inject({ url: '/api/v1/jobs', headers: bearer(bob) })).json().jobs.length, 0)
  assert.equal((await app.app.inject({ url: '/api/v1/jobs', headers: bearer(alice) })).json().jobs.length, 1)
  // The same Idempotency-Key from two keys makes two separate uploads.
  const k = { 'idempotency-key': 'same-key' }
  const a = await app.app.inject({ method: 'POST', url: '/api/v1/jobs', payload: body.payload, headers: { ...body.headers, ...bearer(alice), ...k } })
  const b = await app.app.inject({ method: 'POST', url: '/api/v1/jobs', payload: body.payload, headers: { ...body.headers, ...bearer(bob), ...k } })
  assert.notEqual(a.json().jobs[0].id, b.json().jobs[0].id)
})

for (const store of STORES) test(`[${store}] only a hash of a key is stored`, { timeout: 60_000 }, async (t) => {
  const { db, close } = await freshStore(store)
  t.after(close)
  const { key } = await createApiKey(db, 'carol', 1)
  const rows = await db.kysely.selectFrom('api_keys').selectAll().execute()
  assert.equal(rows.length, 1)
  assert.ok(!JSON.stringify(rows).includes(key))
  assert.match(rows[0]!.key_hash, /^[0-9a-f]{64}$/)
})

test('an upload flood from one key gets 429 with Retry-After; other keys are not affected', async (t) => {
  const app = await buildTestApp(t, { env: { AUTH_MODE: 'keys', RATE_LIMIT_PER_MINUTE: '5' } })
  const flood = (await createApiKey(app.db, 'flood', Date.now())).key
  const calm = (await createApiKey(app.db, 'calm', Date.now())).key
  const codes: number[] = []
  for (let i = 0; i < 8; i++) {
    const body = upload()
    codes.push((await app.app.inject({ method: 'POST', url: '/api/v1/jobs', payload: body.payload, headers: { ...body.headers, ...bearer(flood) } })).statusCode)
  }
  assert.deepEqual(codes, [202, 202, 202, 202, 202, 429, 429, 429])
  const body = upload()
  const limited = await app.app.inject({ method: 'POST', url: '/api/v1/jobs', payload: body.payload, headers: { ...body.headers, ...bearer(flood) } })
  assert.equal(limited.json().code, 'RATE_LIMITED')
  assert.ok(Number(limited.headers['retry-after']) > 0)
  assert.equal((await app.app.inject({ method: 'POST', url: '/api/v1/jobs', payload: body.payload, headers: { ...body.headers, ...bearer(calm) } })).statusCode, 202)
})

test('CORS: listed origins are echoed, others get no CORS headers, never *', async (t) => {
  const app = await buildTestApp(t, { env: { CORS_ORIGINS: 'https://dash.example' } })
  const preflight = (origin: string) => app.app.inject({ method: 'OPTIONS', url: '/api/v1/jobs', headers: { origin, 'access-control-request-method': 'POST' } })
  const listed = await preflight('https://dash.example')
  assert.equal(listed.headers['access-control-allow-origin'], 'https://dash.example')
  assert.equal(listed.headers['access-control-allow-credentials'], undefined)
  const other = await preflight('https://evil.example')
  assert.equal(other.headers['access-control-allow-origin'], undefined)
})

test('an unreachable database is a 503 with Retry-After, on key checks and on reads, never a 500', async (t) => {
  // Nothing listens on port 1: every query fails to connect, as when MariaDB is down.
  const unreachable = createDb({ databaseUrl: 'mysql://root@127.0.0.1:1/test' })
  t.after(() => unreachable.kysely.destroy())
  const { app } = await buildTestApp(t, { sharedDb: unreachable, env: { AUTH_MODE: 'keys' } })
  const withKey = await app.inject({ url: '/api/v1/jobs', headers: { authorization: `Bearer hs_${'a'.repeat(32)}` } })
  assert.equal(withKey.statusCode, 503)
  assert.equal(withKey.json().code, 'SERVICE_UNAVAILABLE')
  assert.equal(withKey.headers['retry-after'], '2')
  const { app: open } = await buildTestApp(t, { sharedDb: unreachable })
  const read = await open.inject({ url: '/api/v1/jobs' })
  assert.equal(read.statusCode, 503)
  assert.equal(read.headers['content-type'], 'application/problem+json; charset=utf-8')
})
