import assert from 'node:assert/strict'
import { test } from 'node:test'
import { PROTOCOL_VERSION } from '@hivesight/protocol'
import WebSocket from 'ws'
import { tinyPng } from '../support/images.ts'
import { listeningApp } from '../support/listening-app.ts'
import { multipart } from '../support/test-app.ts'

const KEYS = { AUTH_MODE: 'keys', WORKER_TOKEN: 'wt-secret-0123456789', JOIN_TOKEN: 'join-0123456789' }
const hello = (token?: string) => JSON.stringify({ type: 'worker.hello', protocol: PROTOCOL_VERSION, kind: 'headless', slots: 1, backend: 'wasm', threads: 1, simd: true, token })

/** Opens a raw socket; resolves with how it ended (close code) or the HTTP status that refused the upgrade. */
function raw(url: string, opts: { origin?: string; onOpen?: (ws: WebSocket) => void } = {}): Promise<{ code?: number; status?: number; errors: string[] }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { origin: opts.origin })
    const errors: string[] = []
    ws.on('message', (d) => errors.push(JSON.parse(d.toString()).code))
    ws.on('open', () => opts.onOpen?.(ws))
    ws.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode, errors }))
    ws.on('close', (code) => resolve({ code, errors }))
    ws.on('error', () => undefined)
  })
}

test('workers need a token: none or a wrong one is closed with 1008; a join token makes an untrusted browser worker', async (t) => {
  const app = await listeningApp(t, { env: KEYS })
  assert.equal((await raw(app.wsUrl, { onOpen: (ws) => ws.send(hello()) })).code, 1008)
  assert.equal((await raw(app.wsUrl, { onOpen: (ws) => ws.send(hello('guess')) })).code, 1008)
  const trusted = await app.worker({ token: KEYS.WORKER_TOKEN })
  const volunteer = await app.worker({ token: KEYS.JOIN_TOKEN })
  const kinds = (await app.app.inject({ url: '/api/v1/workers' })).json().workers.map((w: { id: string; kind: string }) => [w.id === trusted.workerId ? 'runtime' : w.id === volunteer.workerId ? 'volunteer' : '?', w.kind])
  assert.deepEqual(Object.fromEntries(kinds), { runtime: 'headless', volunteer: 'browser' })
})

test('a connection that does not say hello within 2 s is closed with 1008', async (t) => {
  const app = await listeningApp(t, { env: KEYS })
  const started = Date.now()
  const r = await raw(app.wsUrl)
  assert.equal(r.code, 1008)
  assert.ok(Date.now() - started < 3_500)
})

test('a foreign Origin and too many connections from one IP are refused at the upgrade', async (t) => {
  const app = await listeningApp(t, { env: { MAX_WORKER_CONNECTIONS_PER_IP: '2' } })
  assert.equal((await raw(app.wsUrl, { origin: 'https://evil.example' })).status, 403)
  const [a, b] = [await app.worker(), await app.worker()]
  assert.ok(a.workerId && b.workerId)
  assert.equal((await raw(app.wsUrl)).status, 429)
})

test('oversized frames close the socket (1009); floods and repeated garbage close it with 1008', async (t) => {
  const app = await listeningApp(t)
  assert.equal((await raw(app.wsUrl, { onOpen: (ws) => ws.send('x'.repeat(100 * 1024)) })).code, 1009)
  const garbage = await raw(app.wsUrl, { onOpen: (ws) => { ws.send(hello()); for (let i = 0; i < 30; i++) ws.send('{nope') } })
  assert.equal(garbage.code, 1008)
  assert.ok(garbage.errors.filter((e) => e === 'BAD_MESSAGE').length >= 20)
  const flood = await raw(app.wsUrl, { onOpen: (ws) => { ws.send(hello()); for (let i = 0; i < 2_100; i++) ws.send(JSON.stringify({ type: 'worker.drain' })) } })
  assert.equal(flood.code, 1008)
  assert.ok(flood.errors.includes('RATE_LIMITED'))
  // The coordinator is still fine.
  assert.equal((await app.app.inject({ url: '/healthz' })).statusCode, 200)
})

test("a result for another worker's job is refused and changes nothing", async (t) => {
  const app = await listeningApp(t)
  const [holder, thief] = [await app.worker(), await app.worker()]
  const id = (await app.app.inject({ method: 'POST', url: '/api/v1/jobs', ...multipart([{ name: 'a.png', type: 'image/png', data: tinyPng() }]) })).json().jobs[0].id
  await holder.waitFor(() => holder.assignments.length + thief.assignments.length === 1, 3_000, 'dispatch')
  const [owner, other] = holder.assignments.length ? [holder, thief] : [thief, holder]
  const a = owner.assignments[0]!
  other.succeed(a, [7])
  await other.waitFor(() => app.dispatch.counters.staleResults === 1, 3_000, 'refused')
  assert.equal((await app.app.inject({ url: `/api/v1/jobs/${id}` })).json().status, 'running')
  owner.succeed(a, [9])
  assert.equal((await app.app.inject({ url: `/api/v1/jobs/${id}?wait=5` })).json().result.predictions[0].wnid, 'n01514859')
})
