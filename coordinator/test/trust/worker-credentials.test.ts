import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import { checkWorkerCredential, createWorkerCredential, parseWorkerCredential } from '../../src/auth/worker-credentials.ts'
import { workerCredentialCommand } from '../../src/cli/worker-credentials.ts'
import { listeningApp } from '../support/listening-app.ts'

test('worker credentials: found by name, secret compared by hash, refused when unknown, wrong, revoked or expired', { timeout: 5_000 }, () => {
  const secret = 'a'.repeat(43)
  const parsed = parseWorkerCredential(`hsw1.vm-1.${secret}`)
  assert.deepEqual(parsed, { name: 'vm-1', secret })
  assert.equal(parseWorkerCredential('hsw1.vm 1.x'), undefined)
  assert.equal(parseWorkerCredential('hs1.w.vm.0.mac'), undefined)
  const row = { secret_hash: createHash('sha256').update(secret).digest('hex'), expires_at: 10_000, revoked_at: null }
  assert.deepEqual(checkWorkerCredential(row, secret, 9_999), { ok: true })
  assert.deepEqual(checkWorkerCredential(undefined, secret, 0), { ok: false, reason: 'unknown worker credential' })
  assert.deepEqual(checkWorkerCredential(row, 'b'.repeat(43), 0), { ok: false, reason: 'unknown worker credential' })
  assert.deepEqual(checkWorkerCredential({ ...row, revoked_at: 5 }, secret, 0), { ok: false, reason: 'this worker credential was revoked' })
  assert.match(String(checkWorkerCredential(row, secret, 10_000).ok === false && 'expired'), /expired/)
})

test('a VM credential makes its pages trusted, admits its number of pages, and once revoked its pages are closed and refused', { timeout: 60_000 }, async (t) => {
  // No WORKER_TOKEN at all: the VM never needs the master secret.
  const app = await listeningApp(t, { env: { AUTH_MODE: 'keys', EVENT_POLL_MS: '20' } })
  const { credential } = await createWorkerCredential(app.db, 'vm1', 30, 2, Date.now())
  const [p1, p2] = [await app.worker({ token: credential }), await app.worker({ token: credential })]
  const key = await app.apiKey()
  const listed = (await app.app.inject({ url: '/api/v1/workers', headers: { authorization: `Bearer ${key}` } })).json().workers as { trusted: boolean; name: string }[]
  assert.deepEqual(listed.map((w) => [w.trusted, w.name]), [[true, 'vm1'], [true, 'vm1']])
  const third = await app.worker({ token: credential, hello: false })
  third.send({ type: 'worker.hello', protocol: 1, kind: 'headless', slots: 1, backend: 'wasm', threads: 1, simd: true, token: credential })
  assert.equal((await third.whenClosed()).code, 4409, 'a third page on a two-page credential')
  const forged = await app.worker({ token: `${credential.slice(0, -3)}xyz`, hello: false })
  forged.send({ type: 'worker.hello', protocol: 1, kind: 'headless', slots: 1, backend: 'wasm', threads: 1, simd: true, token: `${credential.slice(0, -3)}xyz` })
  assert.equal((await forged.whenClosed()).code, 1008)
  // Revoked by the operator's command (another process, in real life): the signal reaches the coordinator.
  await workerCredentialCommand(app.db, { sub: 'revoke', name: 'vm1' }, Date.now())
  assert.deepEqual([(await p1.whenClosed()).code, (await p2.whenClosed()).code], [1008, 1008])
  const again = await app.worker({ token: credential, hello: false })
  again.send({ type: 'worker.hello', protocol: 1, kind: 'headless', slots: 1, backend: 'wasm', threads: 1, simd: true, token: credential })
  const refused = await again.whenClosed()
  assert.deepEqual([refused.code, refused.reason], [1008, 'this worker credential was revoked'])
  const { credential: old } = await createWorkerCredential(app.db, 'vm2', 1, 1, Date.now() - 2 * 86_400_000)
  const late = await app.worker({ token: old, hello: false })
  late.send({ type: 'worker.hello', protocol: 1, kind: 'headless', slots: 1, backend: 'wasm', threads: 1, simd: true, token: old })
  assert.match((await late.whenClosed()).reason, /expired/)
})
