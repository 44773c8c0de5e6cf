import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { test } from 'node:test'
import { REPO_ROOT } from '@hivesight/coordinator'
import { closedKnee, openKnee, runSweep, type LoadStep } from '../src/load/sweep.ts'

const DATASET = process.env.DATASET_DIR ?? resolve(REPO_ROOT, '../shared/datasets/imagenet-val-dev')
const step = (mode: LoadStep['mode'], offered: number, goodput: number, p95: number): LoadStep => ({
  mode, offered, achieved: mode === 'open' ? offered : null, trips: 10, throughput: goodput, goodput, p50: p95 / 2, p95, p99: p95, s429: 0, s503: 0, failed: 0, errors: {},
})

test('the knee is the last rate kept up with, and the fewest clients near the best goodput', () => {
  const open = [step('open', 5, 5, 100), step('open', 10, 9.8, 120), step('open', 20, 19, 250), step('open', 30, 22, 4000), step('open', 40, 23, 9000)]
  assert.equal(openKnee(open)?.offered, 20)
  assert.equal(openKnee([step('open', 5, 2, 100)]), null)
  const closed = [step('closed', 1, 10, 80), step('closed', 2, 18, 90), step('closed', 4, 23, 150), step('closed', 8, 24, 300)]
  assert.equal(closedKnee(closed)?.offered, 4)
})

test('eval:load, short: one open-loop rate and one closed-loop concurrency against the npm start system', { timeout: 150_000 }, async () => {
  const steps = await runSweep({ dataset: DATASET, images: 20, rates: [4], seconds: 4, concurrencies: [2], tripsPerClient: 5, log: () => undefined }, () => undefined)
  assert.deepEqual(steps.map((s) => s.mode), ['open', 'closed'])
  for (const s of steps) {
    assert.equal(s.failed, 0, `${s.mode}: ${JSON.stringify(s.errors)}`)
    assert.ok(s.trips >= (s.mode === 'open' ? 5 : 10), `${s.mode}: ${s.trips} trips`)
    assert.ok(s.goodput > 0 && s.p50 !== null && s.p99! >= s.p50, `${s.mode}: ${JSON.stringify(s)}`)
  }
  // 4 arrivals/s is well under what two pages classify, so the open loop keeps up.
  assert.equal(openKnee(steps)?.offered, 4)
})
