import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp } from '../support/test-app.ts'

test('the OpenAPI document is generated from the route schemas, with a UI', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ url: '/api/v1/openapi.json' })
  assert.equal(res.statusCode, 200)
  const doc = res.json()
  assert.match(doc.openapi, /^3\./)
  for (const path of ['/api/v1/jobs', '/api/v1/jobs/{id}', '/api/v1/jobs/{id}/retry', '/api/v1/workers', '/api/v1/join-links', '/api/v1/classify', '/healthz', '/readyz']) {
    assert.ok(doc.paths[path], `${path} documented`)
  }
  assert.ok(doc.paths['/api/v1/jobs'].post.responses['202'], 'submit answers 202')
  assert.ok(doc.paths['/api/v1/jobs/{id}'].delete, 'cancel documented')
  assert.ok(doc.paths['/api/v1/join-links'].post.responses['409'], 'join links document JOINING_DISABLED')
  assert.equal(doc.paths['/worker'], undefined, 'internal pages are not part of the API')
  const ui = await app.inject({ url: '/api/docs/' })
  assert.ok([200, 302].includes(ui.statusCode), `UI answered ${ui.statusCode}`)
})
