import assert from 'node:assert/strict'
import { test } from 'node:test'
import { independent, judge, mayAnswer, networkOf, type Opinion } from '../../src/trust/verification.ts'

const vol = (identity: string, network: string | null, top1: number): Opinion => ({ identity, network, trusted: false, top1 })
const trusted = (top1: number): Opinion => ({ identity: 'vm-1', network: '10.0.0.0/24', trusted: true, top1 })

test('a volunteer alone never finalises a job under the quorum policy', { timeout: 5_000 }, () => {
  const v = judge([vol('a', '1.2.3.0/24', 7)], 'quorum')
  assert.deepEqual(v, { kind: 'confirm', pending: vol('a', '1.2.3.0/24', 7) })
  assert.equal(judge([vol('a', '1.2.3.0/24', 7)], 'accept').kind, 'final')
})

test('two independent volunteers that agree finalise; same identity or same network does not count', { timeout: 5_000 }, () => {
  assert.equal(judge([vol('a', '1.2.3.0/24', 7), vol('b', '5.6.7.0/24', 7)], 'quorum').kind, 'final')
  assert.equal(judge([vol('a', '1.2.3.0/24', 7), vol('b', '1.2.3.0/24', 7)], 'quorum').kind, 'confirm')
  assert.equal(judge([vol('a', '1.2.3.0/24', 7), vol('a', '5.6.7.0/24', 7)], 'quorum').kind, 'confirm')
  assert.equal(judge([vol('a', null, 7), vol('b', '5.6.7.0/24', 7)], 'quorum').kind, 'confirm')
})

test('volunteers that disagree wait for a trusted worker, whose answer is final and names who was wrong', { timeout: 5_000 }, () => {
  const a = vol('a', '1.2.3.0/24', 7)
  const b = vol('b', '5.6.7.0/24', 9)
  assert.deepEqual(judge([a, b], 'quorum'), { kind: 'settle', pending: a })
  const t = trusted(9)
  assert.deepEqual(judge([a, b, t], 'quorum'), { kind: 'final', accepted: t, agreed: [b], contradicted: [a] })
  // A trusted answer is final under either policy, and at once.
  assert.equal(judge([t], 'quorum').kind, 'final')
})

test('who may answer next: trusted always; a volunteer only if allowed, not settling, and independent of the pending answer', { timeout: 5_000 }, () => {
  const pending = vol('a', '1.2.3.0/24', 7)
  const open = { pending: null, needsTrusted: false, volunteersAllowed: true }
  assert.equal(mayAnswer({ identity: 'x', network: '9.9.9.0/24', trusted: false }, open), true)
  assert.equal(mayAnswer({ identity: 'x', network: '9.9.9.0/24', trusted: false }, { ...open, volunteersAllowed: false }), false)
  assert.equal(mayAnswer({ identity: 'x', network: '9.9.9.0/24', trusted: false }, { ...open, pending }), true)
  assert.equal(mayAnswer({ identity: 'a', network: '9.9.9.0/24', trusted: false }, { ...open, pending }), false)
  assert.equal(mayAnswer({ identity: 'x', network: '1.2.3.0/24', trusted: false }, { ...open, pending }), false)
  assert.equal(mayAnswer({ identity: 'x', network: '9.9.9.0/24', trusted: false }, { ...open, pending, needsTrusted: true }), false)
  assert.equal(mayAnswer({ identity: 'vm', network: '1.2.3.0/24', trusted: true }, { ...open, pending, needsTrusted: true, volunteersAllowed: false }), true)
  assert.equal(independent({ identity: 'a', network: null }, { identity: 'b', network: null }), false)
})

test('networks: IPv4 /24, IPv6 /48, IPv4-mapped as IPv4, junk as unknown', { timeout: 5_000 }, () => {
  assert.equal(networkOf('203.0.113.77'), '203.0.113.0/24')
  assert.equal(networkOf('::ffff:203.0.113.77'), '203.0.113.0/24')
  assert.equal(networkOf('2001:db8:abcd:12::1'), '2001:db8:abcd::/48')
  assert.equal(networkOf('2001:0db8:abcd:0012:0000:0000:0000:0001'), '2001:db8:abcd::/48')
  assert.equal(networkOf('::1'), '0:0:0::/48')
  assert.equal(networkOf('not an address'), null)
  assert.equal(networkOf(undefined), null)
})
