import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sessionName, signSessionToken, verifySessionToken } from '../src/session-token.ts'

const secrets = { worker: 'worker-secret', join: 'join-secret' }
const now = Date.UTC(2026, 0, 1)

test('a signed token verifies with its own secret only, and carries its claims', () => {
  const w = signSessionToken(secrets.worker, { kind: 'worker', name: 'vm1-1', expires: 0 })
  assert.deepEqual(verifySessionToken(w, secrets, now), { ok: true, claims: { kind: 'worker', name: 'vm1-1', expires: 0 } })
  // Signed with the join secret but claiming to be a worker token: refused.
  const forged = signSessionToken(secrets.join, { kind: 'worker', name: 'vm1-1', expires: 0 })
  assert.deepEqual(verifySessionToken(forged, secrets, now), { ok: false, reason: 'unknown worker token' })
  assert.equal(verifySessionToken(w, { worker: null, join: 'join-secret' }, now).ok, false, 'kind disabled')
})

test('tampering, garbage and expiry are refused', () => {
  const j = signSessionToken(secrets.join, { kind: 'join', name: 'alice-x', expires: now / 1000 + 60 })
  assert.equal(verifySessionToken(j, secrets, now).ok, true)
  assert.deepEqual(verifySessionToken(j, secrets, now + 61_000), { ok: false, reason: 'token expired' })
  const renamed = j.replace('alice-x', 'alice-y')
  assert.equal(verifySessionToken(renamed, secrets, now).ok, false)
  const promoted = j.replace('.j.', '.w.')
  assert.equal(verifySessionToken(promoted, secrets, now).ok, false, 'a join token cannot become a worker token')
  for (const junk of ['', 'hs1', 'hs1.w.a.0', 'hs1.w.a.0.', 'hs1.x.a.0.abc', 'hs1.w.a b.0.abc', 'hs2.w.a.0.abc', `${j}.more`]) {
    assert.equal(verifySessionToken(junk, secrets, now).ok, false, junk)
  }
})

test('names are made to fit; bad claims are not signed', () => {
  assert.equal(sessionName('vm1.example.org-2'), 'vm1-example-org-2')
  assert.equal(sessionName('x'.repeat(100)).length, 64)
  assert.equal(sessionName(''), 'worker')
  assert.throws(() => signSessionToken('s', { kind: 'worker', name: 'a.b', expires: 0 }))
  assert.throws(() => signSessionToken('s', { kind: 'worker', name: 'a', expires: -1 }))
})
