import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULT_SPOT_CHECKS, quarantines, shouldSpotCheck, spotCheckRate, usableAsKnownAnswer } from '../../src/trust/spot-checks.ts'

test('new workers are checked more often (10 % of their first 50 answers), then never below 2 %', { timeout: 5_000 }, () => {
  assert.equal(spotCheckRate(0), 0.1)
  assert.equal(spotCheckRate(49), 0.1)
  assert.equal(spotCheckRate(50), 0.02)
  assert.equal(spotCheckRate(1_000_000), DEFAULT_SPOT_CHECKS.steadyRate)
  // A seeded stream of draws: about the promised share, for a new and a seasoned worker.
  let seed = 1
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647)
  const share = (given: number) => Array.from({ length: 20_000 }, () => shouldSpotCheck(given, random)).filter(Boolean).length / 20_000
  assert.ok(Math.abs(share(0) - 0.1) < 0.01, `new: ${share(0)}`)
  assert.ok(Math.abs(share(500) - 0.02) < 0.005, `seasoned: ${share(500)}`)
})

test('only clear trusted answers become known answers', { timeout: 5_000 }, () => {
  assert.equal(usableAsKnownAnswer([{ score: 0.8 }, { score: 0.1 }]), true)
  assert.equal(usableAsKnownAnswer([{ score: 0.41 }, { score: 0.39 }]), false)
  assert.equal(usableAsKnownAnswer([{ score: 0.3 }]), true)
  assert.equal(usableAsKnownAnswer([]), false)
})

test('a failed check quarantines; contradicting a trusted worker quarantines only where its answer was clear', { timeout: 5_000 }, () => {
  assert.equal(quarantines({ kind: 'check', expected: 5, given: 5 }), false)
  assert.equal(quarantines({ kind: 'check', expected: 5, given: 6 }), true)
  assert.equal(quarantines({ kind: 'contradicted', trustedMargin: 0.5 }), true)
  assert.equal(quarantines({ kind: 'contradicted', trustedMargin: 0.05 }), false)
})
