import assert from 'node:assert/strict'
import { test } from 'node:test'
import { VersionRates } from '../../src/models/version-rates.ts'

test('answers per second per version over the last minute, in constant time per answer', { timeout: 20_000 }, () => {
  const rates = new VersionRates()
  const t0 = 1_700_000_000_000
  assert.equal(rates.perSecond('v1', t0), 0)
  // 30 s of 10 answers/s, then nothing.
  for (let i = 0; i < 300; i++) rates.record('v1', t0 + i * 100)
  assert.ok(Math.abs(rates.perSecond('v1', t0 + 30_000) - 10) <= 0.4, `${rates.perSecond('v1', t0 + 30_000)}`)
  assert.equal(rates.perSecond('v2', t0 + 30_000), 0, 'another version')
  assert.ok(rates.perSecond('v1', t0 + 75_000) < 4, 'falls once the answers leave the window')
  assert.equal(rates.perSecond('v1', t0 + 200_000), 0)
  // 300 000 answers in a minute (5 000/s): the old list of times made this quadratic.
  const started = performance.now()
  for (let i = 0; i < 300_000; i++) rates.record('v3', t0 + i / 5)
  assert.ok(performance.now() - started < 2_000, `${(performance.now() - started).toFixed(0)} ms for 300 000 answers`)
  assert.ok(Math.abs(rates.perSecond('v3', t0 + 60_000) - 5_000) < 100, `${rates.perSecond('v3', t0 + 60_000)}`)
})
