import assert from 'node:assert/strict'
import { test } from 'node:test'
import { jpeg, tinyPng } from '../support/images.ts'
import { listeningApp } from '../support/listening-app.ts'
import { STORES } from '../support/databases.ts'
import { buildTestApp, multipart } from '../support/test-app.ts'

for (const store of STORES) test(`[${store}] JSON submit with base64 images; malformed JSON, wrong shapes and __proto__ get 400, never 500`, { timeout: 60_000 }, async (t) => {
  const { app } = await buildTestApp(t, { store })
  const ok = await app.inject({ method: 'POST', url: '/api/v1/jobs', payload: { images: [{ data: tinyPng().toString('base64'), filename: 'a.png' }], priority: 3 } })
  assert.equal(ok.statusCode, 202)
  const job = (await app.inject({ url: ok.json().jobs[0].url })).json()
  assert.equal(job.priority, 3)
  assert.equal(job.filename, 'a.png')
  for (const payload of [
    '{"images": [',
    JSON.stringify({ images: [] }),
    JSON.stringify({ images: [{ data: 'not base64 !!' }] }),
    JSON.stringify({ images: [{ data: tinyPng().toString('base64') }], extra: 1 }),
    '{"images":[{"data":"iVBORw0KGgo="}],"__proto__":{"admin":true}}',
  ]) {
    const res = await app.inject({ method: 'POST', url: '/api/v1/jobs', payload, headers: { 'content-type': 'application/json' } })
    assert.equal(res.statusCode, 400, payload.slice(0, 40))
    assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
  }
  const text = await app.inject({ method: 'POST', url: '/api/v1/jobs', payload: 'hello', headers: { 'content-type': 'text/plain' } })
  assert.equal(text.statusCode, 415)
})

for (const store of STORES) test(`[${store}] hostile files: zero bytes, random bytes named .jpg, HTML declared as image/jpeg, traversal and 10 000-character names`, { timeout: 60_000 }, async (t) => {
  const { app } = await buildTestApp(t, { store })
  const send = (name: string, data: Buffer, type = 'image/jpeg') => app.inject({ method: 'POST', url: '/api/v1/jobs', ...multipart([{ name, data, type }]) })
  assert.equal((await send('empty.jpg', Buffer.alloc(0))).json().code, 'IMAGE_INVALID')
  assert.equal((await send('random.jpg', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)))).statusCode, 415)
  assert.equal((await send('x.jpg', Buffer.from('<html><svg onload=alert(1)></svg></html>'))).json().code, 'UNSUPPORTED_IMAGE_TYPE')
  const traversal = await send('../../etc/passwd.png', tinyPng(), 'image/png')
  assert.equal(traversal.statusCode, 202)
  assert.equal(traversal.json().jobs[0].filename, 'passwd.png')
  const long = await send(`${'a'.repeat(10_000)}.png`, tinyPng(), 'image/png')
  assert.equal(long.statusCode, 202)
  assert.equal(long.json().jobs[0].filename.length, 255)
})

for (const store of STORES) test(`[${store}] too many files or parts in one request: 413, nothing kept`, { timeout: 60_000 }, async (t) => {
  const { app } = await buildTestApp(t, { store, env: { MAX_IMAGES_PER_REQUEST: '2' } })
  const three = multipart([0, 1, 2].map((i) => ({ name: `${i}.png`, type: 'image/png', data: tinyPng() })))
  const res = await app.inject({ method: 'POST', url: '/api/v1/jobs', ...three })
  assert.equal(res.statusCode, 413)
  assert.equal((await app.inject({ url: '/api/v1/jobs' })).json().jobs.length, 0)
})

for (const store of STORES) test(`[${store}] POST /api/v1/classify answers 200 with the finished job, or 202 with a Location when it takes longer`, { timeout: 60_000 }, async (t) => {
  const app = await listeningApp(t, { store })
  const slow = await app.app.inject({ method: 'POST', url: '/api/v1/classify?timeout=0.2', ...multipart([{ name: 'a.jpg', data: jpeg() }]) })
  assert.equal(slow.statusCode, 202)
  assert.match(String(slow.headers.location), /^\/api\/v1\/jobs\//)
  const w = await app.worker({ slots: 2 })
  const pending = app.app.inject({ method: 'POST', url: '/api/v1/classify?timeout=5', ...multipart([{ name: 'b.jpg', data: jpeg() }]) })
  await w.waitFor(() => w.assignments.length === 2, 3_000, 'both jobs')
  for (const a of w.assignments) w.succeed(a, [65])
  const res = await pending
  assert.equal(res.statusCode, 200)
  assert.equal(res.json().status, 'succeeded')
  assert.equal(res.json().result.predictions[0].wnid, 'n01749939')
  const two = await app.app.inject({ method: 'POST', url: '/api/v1/classify', ...multipart([{ name: 'a.png', type: 'image/png', data: tinyPng() }, { name: 'b.png', type: 'image/png', data: tinyPng() }]) })
  assert.equal(two.statusCode, 400)
  assert.equal((await app.app.inject({ url: '/api/v1/jobs' })).json().jobs.length, 2, 'a refused classify creates no job')
})
