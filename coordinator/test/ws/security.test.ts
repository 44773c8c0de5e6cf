import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import { PROTOCOL_VERSION } from '@hivesight/protocol'
import { signSessionToken } from '@hivesight/protocol/session-token'
import WebSocket from 'ws'
import { STORES } from '../support/databases.ts'
import { tinyPng } from '../support/images.ts'
import { listeningApp } from '../support/listening-app.ts'
import { multipart } from '../support/test-app.ts'

const KEYS = { AUTH_MODE: 'keys', WORKER_TOKEN: 'wt-secret-0123456789', JOIN_TOKEN: 'join-secret-0123456789' }
const hello = (token?: string) => JSON.stringify({ type: 'worker.hello', protocol: PROTOCOL_VERSION, kind: 'headless', slots: 1, backend: 'wasm', threads: 1, simd: true, token })

interface RawEnd {
  code?: number
  status?: number
  errors: string[]
  /** The server neither closed the socket nor refused the upgrade in time. */
  timedOut?: true
}

/**
 * Opens a raw socket; resolves with how it ended (close code) or the HTTP status that refused the upgrade.
 * A socket the server never closes resolves as timed out (and is dropped), so the test fails on its close
 * code instead of hanging until the runner's timeout.
 */
function raw(url: string, opts: { origin?: string; headers?: Record<string, string>; onOpen?: (ws: WebSocket) => void; timeoutMs?: number } = {}): Promise<RawEnd> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { origin: opts.origin, headers: opts.headers })
    const errors: string[] = []
    const timer = setTimeout(() => {
      resolve({ code: undefined, timedOut: true, errors })
      ws.terminate()
    }, opts.timeoutMs ?? 10_000)
    const end = (r: Omit<RawEnd, 'errors'>) => {
      clearTimeout(timer)
      resolve({ ...r, errors })
    }
    ws.on('message', (d) => {
      const { code } = JSON.parse(d.toString()) as { code?: unknown }
      if (typeof code === 'string') errors.push(code)
    })
    ws.on('open', () => opts.onOpen?.(ws))
    ws.on('unexpected-response', (_req, res) => end({ status: res.statusCode }))
    ws.on('close', (code) => end({ code }))
    ws.on('error', () => undefined)
  })
}

const workerToken = (name: string) => signSessionToken(KEYS.WORKER_TOKEN, { kind: 'worker', name, expires: 0 })

for (const store of STORES) test(`[${store}] workers need a session token: none, a wrong one or the raw secret is closed with 1008; a join link makes an untrusted browser worker`, { timeout: 60_000 }, async (t) => {
  const app = await listeningApp(t, { store, env: KEYS })
  assert.equal((await raw(app.wsUrl, { onOpen: (ws) => ws.send(hello()) })).code, 1008)
  assert.equal((await raw(app.wsUrl, { onOpen: (ws) => ws.send(hello('guess')) })).code, 1008)
  assert.equal((await raw(app.wsUrl, { onOpen: (ws) => ws.send(hello(KEYS.WORKER_TOKEN)) })).code, 1008)
  const trusted = await app.worker({ token: workerToken('vm1-1'), name: 'claims-to-be-someone-else' })
  const admin = await app.apiKey('admin', { admin: true })
  const link = (await app.app.inject({ method: 'POST', url: '/api/v1/join-links', headers: { authorization: `Bearer ${admin}` }, payload: { name: 'alice' } })).json()
  const volunteer = await app.worker({ token: new URL(link.url).hash.replace('#token=', '') })
  const workers = (await app.app.inject({ url: '/api/v1/workers', headers: { authorization: `Bearer ${admin}` } })).json().workers as { id: string; kind: string; trusted: boolean; name: string }[]
  const seen = Object.fromEntries(workers.map((w) => [w.id === trusted.workerId ? 'runtime' : w.id === volunteer.workerId ? 'volunteer' : '?', [w.kind, w.trusted, w.name]]))
  assert.deepEqual(seen, { runtime: ['headless', true, 'vm1-1'], volunteer: ['browser', false, link.name] })
  assert.match(link.name, /^alice-/)
})

for (const store of STORES) test(`[${store}] one live session per token: a second connection with it is refused (4409) until the first is gone`, { timeout: 60_000 }, async (t) => {
  const app = await listeningApp(t, { store, env: KEYS })
  const token = workerToken('vm1-1')
  const first = await app.worker({ token })
  const second = await raw(app.wsUrl, { onOpen: (ws) => ws.send(hello(token)) })
  assert.equal(second.code, 4409)
  // The refusal must not cost the first session anything: still open, still registered (it gets work).
  assert.equal(first.ws.readyState, WebSocket.OPEN, 'the first session is untouched')
  const upload = multipart([{ name: 'a.png', type: 'image/png', data: tinyPng() }])
  const submitted = await app.app.inject({ method: 'POST', url: '/api/v1/jobs', payload: upload.payload, headers: { ...upload.headers, authorization: `Bearer ${await app.apiKey()}` } })
  assert.equal(submitted.statusCode, 202, submitted.body)
  assert.equal((await first.assignment(0)).job.jobId, submitted.json().jobs[0].id, 'the first session still gets work')
  await first.close()
  // The server frees the session after its own end of the close (a few queries later on MariaDB).
  await until(async () => (await app.db.kysely.selectFrom('worker_sessions').selectAll().execute()).length === 0, 3_000, 'the session to be released')
  const again = await app.worker({ token })
  assert.ok(again.workerId, 'the token works again once its session has ended')
  assert.ok((await app.worker({ token: workerToken('vm1-2') })).workerId, 'another page of the same runtime has its own token')
})

for (const store of STORES) test(`[${store}] join links: need an admin key, need JOIN_TOKEN, expire, and point at PUBLIC_URL`, { timeout: 60_000 }, async (t) => {
  const app = await listeningApp(t, { store, env: { AUTH_MODE: 'keys', WORKER_TOKEN: KEYS.WORKER_TOKEN } })
  assert.equal((await app.app.inject({ method: 'POST', url: '/api/v1/join-links' })).statusCode, 401)
  const plain = await app.app.inject({ method: 'POST', url: '/api/v1/join-links', headers: { authorization: `Bearer ${await app.apiKey()}` } })
  assert.deepEqual([plain.statusCode, plain.json().code], [403, 'ADMIN_KEY_REQUIRED'], 'any key holder used to mint unlimited links')
  const disabled = await app.app.inject({ method: 'POST', url: '/api/v1/join-links', headers: { authorization: `Bearer ${await app.apiKey('admin', { admin: true })}` } })
  assert.equal(disabled.statusCode, 409)
  assert.equal(disabled.json().code, 'JOINING_DISABLED')
  const expired = signSessionToken(KEYS.JOIN_TOKEN, { kind: 'join', name: 'old', expires: Math.floor(Date.now() / 1000) - 1 })
  const withJoin = await listeningApp(t, { store, env: KEYS })
  assert.equal((await raw(withJoin.wsUrl, { onOpen: (ws) => ws.send(hello(expired)) })).code, 1008)
  const bad = await withJoin.app.inject({ method: 'POST', url: '/api/v1/join-links', headers: { authorization: `Bearer ${await withJoin.apiKey('admin', { admin: true })}` }, payload: { hours: 100_000 } })
  assert.equal(bad.statusCode, 400)
  const behindProxy = await listeningApp(t, { store, env: { ...KEYS, PUBLIC_URL: 'https://hive.example.org/' } })
  const link = await behindProxy.app.inject({ method: 'POST', url: '/api/v1/join-links', headers: { authorization: `Bearer ${await behindProxy.apiKey('admin', { admin: true })}`, host: 'evil.example' } })
  assert.match(link.json().url, /^https:\/\/hive\.example\.org\/worker#token=hs1\.j\./, 'PUBLIC_URL, not the Host header')
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
  // The bucket refills on the real clock, so a fixed number of messages only overflows it if the server reads
  // them fast enough. Instead, valid messages in bursts, far above any rate a worker has, until the server
  // closes the socket (raw's timer bounds it): the close then does not depend on this machine's speed.
  const drain = JSON.stringify({ type: 'worker.drain' })
  const flood = await raw(app.wsUrl, {
    onOpen: (ws) => {
      ws.send(hello())
      const burst = () => {
        if (ws.readyState !== WebSocket.OPEN) return
        // No faster than the server reads: an unread backlog would only grow this process.
        if (ws.bufferedAmount < 1024 * 1024) for (let i = 0; i < 1_000; i++) ws.send(drain)
        setTimeout(burst, 1)
      }
      burst()
    },
  })
  assert.equal(flood.code, 1008, flood.timedOut ? 'a flood of valid messages never got the socket closed' : 'closed for policy')
  assert.ok(flood.errors.includes('RATE_LIMITED'), `rate limited (error frames: ${[...new Set(flood.errors)].join(', ')})`)
  assert.ok(!flood.errors.includes('BAD_MESSAGE'), 'every message was valid: the close is the rate limit\'s')
  // The coordinator is still fine.
  assert.equal((await app.app.inject({ url: '/healthz' })).statusCode, 200)
})

for (const store of STORES) test(`[${store}] a result for another worker's job is refused and changes nothing`, { timeout: 60_000 }, async (t) => {
  const app = await listeningApp(t, { store })
  const [holder, thief] = [await app.worker(), await app.worker()]
  const id = (await app.app.inject({ method: 'POST', url: '/api/v1/jobs', ...multipart([{ name: 'a.png', type: 'image/png', data: tinyPng() }]) })).json().jobs[0].id
  await holder.waitFor(() => holder.assignments.length + thief.assignments.length === 1, 3_000, 'dispatch')
  const [owner, other] = holder.assignments.length ? [holder, thief] : [thief, holder]
  const a = owner.assignments[0]!
  other.succeed(a, [7])
  await other.waitFor(() => app.counters.staleResults === 1, 3_000, 'refused')
  assert.equal((await app.app.inject({ url: `/api/v1/jobs/${id}` })).json().status, 'running')
  owner.succeed(a, [9])
  assert.equal((await app.app.inject({ url: `/api/v1/jobs/${id}?wait=5` })).json().result.predictions[0].wnid, 'n01514859')
})

for (const store of STORES) test(`[${store}] one live session per token holds across coordinators sharing a database; a restarted coordinator frees its own sessions at once`, { timeout: 60_000 }, async (t) => {
  const a = await listeningApp(t, { store, env: { ...KEYS, COORDINATOR_ID: 'coord-a' } })
  const b = await listeningApp(t, { env: { ...KEYS, COORDINATOR_ID: 'coord-b' }, sharedDb: a.db })
  const token = workerToken('vm9-1')
  const first = await a.worker({ token })
  assert.equal((await raw(b.wsUrl, { onOpen: (ws) => ws.send(hello(token)) })).code, 4409, 'the session lives on the other coordinator')
  await first.close()
  await until(async () => (await a.db.kysely.selectFrom('worker_sessions').selectAll().execute()).length === 0, 3_000, 'the session to be released')
  assert.ok((await b.worker({ token })).workerId, 'free again once its worker left')

  // Sessions left by coordinators that died: the one that comes back under its id frees them at start;
  // a stranger's stay until untouched for three sweeps.
  const ghost = (tok: string, coordinatorId: string) => a.db.kysely.insertInto('worker_sessions')
    .values({ token_hash: createHash('sha256').update(tok).digest('hex'), worker_id: 'ghost', coordinator_id: coordinatorId, seen_at: Date.now() }).execute()
  const [mine, theirs] = [workerToken('vm9-2'), workerToken('vm9-3')]
  await ghost(mine, 'coord-c')
  await ghost(theirs, 'coord-dead')
  const c = await listeningApp(t, { env: { ...KEYS, COORDINATOR_ID: 'coord-c' }, sharedDb: a.db })
  assert.ok((await c.worker({ token: mine })).workerId)
  assert.equal((await raw(c.wsUrl, { onOpen: (ws) => ws.send(hello(theirs)) })).code, 4409)
  // Close the coordinators sharing a's database before a closes it.
  await Promise.all([b.app.close(), c.app.close()])
})

async function until(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

for (const store of STORES) test(`[${store}] a database error during hello closes the socket with 1011 (the page reconnects) and frees the token's session`, { timeout: 60_000 }, async (t) => {
  const app = await listeningApp(t, { store, env: KEYS })
  // Registering a worker now fails after its session was claimed.
  await app.db.kysely.schema.dropTable('workers').execute()
  const token = workerToken('vm1-1')
  const r = await raw(app.wsUrl, { onOpen: (ws) => ws.send(hello(token)) })
  assert.equal(r.code, 1011)
  const sessions = await app.db.kysely.selectFrom('worker_sessions').selectAll().execute()
  assert.deepEqual(sessions, [], 'the session is free again, so the retry is not refused with 4409')
})

test('behind a trusted load balancer (TRUST_PROXY) the per-IP limit counts clients by X-Forwarded-For; otherwise the header is ignored', async (t) => {
  const env = { MAX_WORKER_CONNECTIONS_PER_IP: '1' }
  const behind = await listeningApp(t, { env: { ...env, TRUST_PROXY: '127.0.0.1' } })
  const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } })
  assert.ok((await behind.worker(from('203.0.113.7'))).workerId)
  assert.ok((await behind.worker(from('203.0.113.8'))).workerId, 'another client behind the same balancer')
  assert.equal((await raw(behind.wsUrl, { headers: from('203.0.113.7').headers })).status, 429, 'the same client twice')
  const direct = await listeningApp(t, { env })
  assert.ok((await direct.worker(from('203.0.113.7'))).workerId)
  assert.equal((await raw(direct.wsUrl, { headers: from('203.0.113.8').headers })).status, 429, 'an untrusted peer cannot pick its address')
})
