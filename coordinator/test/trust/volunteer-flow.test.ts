import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { MODEL_INPUT_BYTES, MODEL_INPUT_CONTENT_TYPE } from '@hivesight/protocol'
import { signSessionToken } from '@hivesight/protocol/session-token'
import type { SimulatedWorker } from '@hivesight/worker-runtime/simulated'
import { DIALECTS } from '../support/databases.ts'
import { decodablePng } from '../support/images.ts'
import { listeningApp, type ListeningApp } from '../support/listening-app.ts'
import { multipart } from '../support/test-app.ts'

// Volunteers are told apart by network: behind a trusted proxy, X-Forwarded-For is each one's address.
const ENV = { AUTH_MODE: 'keys', WORKER_TOKEN: 'wt-secret-0123456789', JOIN_TOKEN: 'join-secret-0123456789', TRUST_PROXY: 'true', SPOT_CHECKS: 'off' }

interface Setup {
  app: ListeningApp
  admin: string
  user: string
  submit(key?: string): Promise<string>
  job(id: string): Promise<{ status: string; attempts: number }>
  /** The final answer's top-1 class, as stored. */
  top1(id: string): Promise<number | undefined>
  volunteer(name: string, address: string, opts?: { link?: string }): Promise<SimulatedWorker & { link: string }>
  trusted(name: string): Promise<SimulatedWorker>
}

async function setup(t: TestContext, env: Record<string, string> = {}, dialect: 'sqlite' | 'mariadb' = 'sqlite', random?: () => number): Promise<Setup> {
  const app = await listeningApp(t, { env: { ...ENV, ...env }, dialect, random })
  const admin = await app.apiKey('admin', { admin: true })
  const user = await app.apiKey('user', { volunteers: true })
  const auth = (key: string) => ({ authorization: `Bearer ${key}` })
  return {
    app, admin, user,
    submit: async (key = user) => {
      const body = multipart([{ name: 'holiday-photo.png', type: 'image/png', data: await decodablePng() }])
      const res = await app.app.inject({ method: 'POST', url: '/api/v1/jobs', payload: body.payload, headers: { ...body.headers, ...auth(key) } })
      assert.equal(res.statusCode, 202, res.body)
      return res.json().jobs[0].id as string
    },
    job: async (id) => (await app.app.inject({ url: `/api/v1/jobs/${id}`, headers: auth(user) })).json(),
    top1: async (id) => {
      const row = await app.db.kysely.selectFrom('jobs').select('result_json').where('id', '=', id).executeTakeFirstOrThrow()
      return row.result_json ? (JSON.parse(row.result_json) as { top: [number, number][] }).top[0]?.[0] : undefined
    },
    volunteer: async (name, address, opts = {}) => {
      const link = opts.link ?? new URL((await app.app.inject({ method: 'POST', url: '/api/v1/join-links', headers: auth(admin), payload: { name } })).json().url).hash.replace('#token=', '')
      return Object.assign(await app.worker({ token: link, slots: 4, headers: { 'x-forwarded-for': address } }), { link })
    },
    trusted: (name) => app.worker({ token: signSessionToken(ENV.WORKER_TOKEN, { kind: 'worker', name, expires: 0 }), headers: { 'x-forwarded-for': '10.0.0.1' } }),
  }
}

for (const dialect of DIALECTS) {
  test(`[${dialect}] a volunteer alone never finalises a job; an independent volunteer's agreement does; volunteers see only the model input`, { timeout: 60_000 }, async (t) => {
    const s = await setup(t, {}, dialect)
    const a = await s.volunteer('alice', '203.0.113.5')
    const id = await s.submit()
    const first = await a.assignment(0)
    assert.equal(first.job.jobId, id)
    assert.equal(first.job.contentType, MODEL_INPUT_CONTENT_TYPE, 'not the photo')
    assert.equal(first.image.length, MODEL_INPUT_BYTES)
    assert.equal(a.messages.find((m) => m.type === 'worker.welcome')?.slots, 2, 'a tab holds at most 2 jobs, whatever it asks')
    a.succeed(first, [7, 8, 9])
    await a.waitFor(() => true, 10, 'nothing')
    // Its own answer is not enough, and a second tab on its /24 is no independent witness.
    const sameNet = await s.volunteer('mallory', '203.0.113.77')
    const b = await s.volunteer('bob', '198.51.100.20')
    const second = await b.assignment(0)
    assert.equal(second.job.jobId, id)
    assert.deepEqual(Buffer.from(second.image), Buffer.from(first.image), 'every volunteer of a job gets the same input')
    assert.equal((await s.job(id)).status, 'running', 'one volunteer\'s answer did not finalise it: it runs again, on bob')
    assert.equal(sameNet.assignments.length, 0, 'a volunteer on the first one\'s /24 was passed over')
    assert.equal(a.assignments.length, 1, 'nobody confirms their own answer')
    b.succeed(second, [7, 8, 9])
    await waitFor(async () => (await s.job(id)).status === 'succeeded', 'the confirmed job to succeed')
    assert.equal(await s.top1(id), 7)
    assert.equal((await s.job(id)).attempts, 1, 'the first answer gave its attempt back: answering is not failing')
  })

  test(`[${dialect}] volunteers that disagree wait for a trusted worker; it decides, and the one it contradicts is quarantined everywhere`, { timeout: 60_000 }, async (t) => {
    const s = await setup(t, {}, dialect)
    const [a, b] = [await s.volunteer('alice', '203.0.113.5'), await s.volunteer('bob', '198.51.100.20')]
    const id = await s.submit()
    const holder = await Promise.race([a.assignment(0).then(() => a), b.assignment(0).then(() => b)])
    const other = holder === a ? b : a
    holder.succeed(holder.assignments[0]!, [7, 8])
    other.succeed(await other.assignment(0), [9, 8])
    await waitFor(async () => (await s.app.db.kysely.selectFrom('jobs').select('needs_trusted').where('id', '=', id).executeTakeFirstOrThrow()).needs_trusted === 1, 'the job to wait for a trusted worker')
    const c = await s.volunteer('carol', '192.0.2.9')
    const vm = await s.trusted('vm1-1')
    const settle = await vm.assignment(0)
    assert.equal(settle.job.jobId, id)
    assert.equal(settle.job.contentType, 'image/png', 'a trusted worker gets the photo')
    vm.succeed(settle, [9, 8])
    await waitFor(async () => (await s.job(id)).status === 'succeeded', 'the trusted answer to be final')
    assert.equal(await s.top1(id), 9)
    assert.equal(c.assignments.length, 0, 'no volunteer was asked to settle it')
    const closed = await holder.whenClosed()
    assert.deepEqual([closed.code, closed.reason.startsWith('quarantined')], [1008, true])
    const again = await s.app.worker({ token: holder.link, headers: { 'x-forwarded-for': '203.0.113.5' }, hello: false })
    again.send({ type: 'worker.hello', protocol: 1, kind: 'browser', slots: 1, backend: 'wasm', threads: 1, simd: true, token: holder.link })
    assert.equal((await again.whenClosed()).code, 1008, 'a quarantined identity cannot rejoin')
    const links = (await s.app.app.inject({ url: '/api/v1/join-links', headers: { authorization: `Bearer ${s.admin}` } })).json().links as { name: string; record: { quarantinedAt: number | null; confirmed: number; contradicted: number } | null }[]
    const record = (w: SimulatedWorker) => links.find((l) => w === holder ? l.name.startsWith(holder === a ? 'alice' : 'bob') : l.name.startsWith(other === a ? 'alice' : 'bob'))?.record
    assert.equal(record(holder)?.contradicted, 1)
    assert.ok(record(holder)?.quarantinedAt)
    assert.equal(record(other)?.confirmed, 1)
    assert.equal(record(other)?.quarantinedAt, null)
  })
}

test('a volunteer\'s failure report or departure never ends a job nor uses an attempt', { timeout: 60_000 }, async (t) => {
  const s = await setup(t, { MAX_ATTEMPTS: '1' })
  const a = await s.volunteer('alice', '203.0.113.5')
  const [x, y] = [await s.submit(), await s.submit()]
  await a.assignment(1)
  a.fail(a.assignments.find((j) => j.job.jobId === x)!, false)
  await waitFor(async () => (await s.app.db.kysely.selectFrom('jobs').select('needs_trusted').where('id', '=', x).executeTakeFirstOrThrow()).needs_trusted === 1, 'x to wait for a trusted worker')
  a.kill()
  await waitFor(async () => (await s.job(y)).status === 'queued', 'y to be queued again')
  const vm = await s.trusted('vm1-1')
  for (const n of [0, 1]) vm.succeed(await vm.assignment(n), [3])
  for (const id of [x, y]) await waitFor(async () => (await s.job(id)).status === 'succeeded', `${id} to succeed with MAX_ATTEMPTS=1`)
})

test('jobs of a key that does not allow volunteers never reach a volunteer tab', { timeout: 60_000 }, async (t) => {
  const s = await setup(t)
  const a = await s.volunteer('alice', '203.0.113.5')
  const privateJob = await s.submit(await s.app.apiKey('private'))
  const openJob = await s.submit()
  assert.equal((await a.assignment(0)).job.jobId, openJob)
  const vm = await s.trusted('vm1-1')
  assert.equal((await vm.assignment(0)).job.jobId, privateJob)
  assert.equal(a.assignments.length, 1)
})

test('a join link admits its number of tabs; revoked, its tabs are closed and it admits none', { timeout: 60_000 }, async (t) => {
  const s = await setup(t)
  const made = await s.app.app.inject({ method: 'POST', url: '/api/v1/join-links', headers: { authorization: `Bearer ${s.admin}` }, payload: { name: 'lab', sessions: 2 } })
  const link = new URL(made.json().url).hash.replace('#token=', '')
  const [one, two] = [await s.volunteer('', '203.0.113.5', { link }), await s.volunteer('', '203.0.113.6', { link })]
  const third = await s.app.worker({ token: link, hello: false })
  third.send({ type: 'worker.hello', protocol: 1, kind: 'browser', slots: 1, backend: 'wasm', threads: 1, simd: true, token: link })
  assert.equal((await third.whenClosed()).code, 4409, 'a third tab on a two-tab link')
  const revoked = await s.app.app.inject({ method: 'DELETE', url: `/api/v1/join-links/${made.json().name}`, headers: { authorization: `Bearer ${s.admin}` } })
  assert.equal(revoked.statusCode, 204)
  assert.deepEqual([(await one.whenClosed()).code, (await two.whenClosed()).code], [1008, 1008])
  const after = await s.app.worker({ token: link, hello: false })
  after.send({ type: 'worker.hello', protocol: 1, kind: 'browser', slots: 1, backend: 'wasm', threads: 1, simd: true, token: link })
  assert.equal((await after.whenClosed()).code, 1008)
  const list = (await s.app.app.inject({ url: '/api/v1/join-links', headers: { authorization: `Bearer ${s.admin}` } })).json().links as { name: string; revokedAt: number | null; sessions: number }[]
  assert.deepEqual(list.map((l) => [l.name, l.sessions, l.revokedAt !== null]), [[made.json().name, 2, true]])
  assert.equal((await s.app.app.inject({ method: 'DELETE', url: `/api/v1/join-links/${made.json().name}`, headers: { authorization: `Bearer ${s.admin}` } })).statusCode, 404)
})

for (const dialect of DIALECTS) test(`[${dialect}] a failed known-answer check quarantines the volunteer and forgets every answer of it nobody confirmed`, { timeout: 60_000 }, async (t) => {
  let checking = false
  const s = await setup(t, { SPOT_CHECKS: 'on' }, dialect, () => (checking ? 0 : 0.99))
  // A trusted worker answers clearly (0.5 vs 0.25), and the draw keeps it: a known answer of class 42.
  const vm = await s.trusted('vm1-1')
  const known = await s.submit()
  checking = true
  vm.succeed(await vm.assignment(0), [42, 41])
  await waitFor(async () => (await s.app.db.kysely.selectFrom('known_answers').selectAll().execute()).length === 1, 'a known answer')
  checking = false
  await vm.close()
  const a = await s.volunteer('alice', '203.0.113.5')
  const y = await s.submit()
  a.succeed(await a.assignment(0), [7])
  await waitFor(async () => (await s.app.db.kysely.selectFrom('job_opinions').selectAll().where('job_id', '=', y).execute()).length === 1, 'alice\'s answer to be kept')
  checking = true
  const ids = new Set([known, y])
  // Checks start once the pool is loaded; real jobs keep the tab busy meanwhile.
  let check: Awaited<ReturnType<typeof a.assignment>> | undefined
  for (let n = 1; !check; n++) {
    ids.add(await s.submit())
    const next = await a.assignment(n, 10_000)
    if (ids.has(next.job.jobId)) a.succeed(next, [7])
    else check = next
  }
  assert.equal(check.job.contentType, MODEL_INPUT_CONTENT_TYPE, 'a check looks like any volunteer job')
  a.succeed(check, [7])
  assert.equal((await a.whenClosed()).code, 1008)
  const left = await s.app.db.kysely.selectFrom('job_opinions').selectAll().where('identity', 'like', 'alice%').execute()
  assert.equal(left.length, 0, 'its unconfirmed answers are forgotten')
  assert.equal((await s.job(y)).status, 'queued')
})

async function waitFor(cond: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
