import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { test } from 'node:test'
import { REPO_ROOT } from '@hivesight/coordinator'
import type { JobView } from '@hivesight/protocol'
import { readLabelledDataset, spreadSample } from '../src/dataset/labelled-dataset.ts'
import { isRoot } from '../src/harness/needs.ts'
import type { ClientReport } from '../src/loss/client.main.ts'
import { readSegmentCounts, ShrinkPolicy } from '../src/client/shrink-policy.ts'
import { LossyLink } from '../src/loss/link.ts'
import { rowOf, runLossExperiment, type LossRow } from '../src/loss/loss-run.ts'

const DATASET = process.env.DATASET_DIR ?? resolve(REPO_ROOT, '../shared/datasets/imagenet-val-dev')

const job = (id: string, filename: string, status: JobView['status'], wnid = 'n1'): JobView => ({
  id, status, filename, contentType: 'image/jpeg', bytes: 1, width: 1, height: 1, priority: 0, attempts: 1,
  submittedAt: 1_000, startedAt: 1_500, finishedAt: status === 'succeeded' ? 3_000 : null, workerId: null, model: { name: 'm', version: 1 },
  result: status === 'succeeded' ? { predictions: [{ wnid, label: '', score: 1 }], model: { name: 'm', version: 1 }, decodeMs: 1, inferMs: 1 } : null, error: null,
})

test('a loss row counts lost (acknowledged, never final) and duplicated (a retry that made a second job) against the coordinator\'s jobs', () => {
  const report: ClientReport = {
    mode: 'ours', attempted: 6, images: 4, accepted: 3, uploadPhaseS: 2, startWall: 0, bytesPerImage: 10, shrunk: 1,
    outcomes: [
      { key: 't-1', acks: [['a']], attempts: 1, latencyMs: 100, final: 'succeeded' },
      { key: 't-10', acks: [['b'], ['c']], attempts: 2, latencyMs: 200, final: 'succeeded' },
      { key: 't-2', acks: [['d']], attempts: 2, latencyMs: null, final: null },
      { key: 't-3', acks: [], attempts: 1, latencyMs: null, final: null },
    ],
  }
  const jobs = [job('a', 't-1-x.JPEG', 'succeeded'), job('b', 't-10-y.JPEG', 'succeeded', 'n2'), job('c', 't-10-y.JPEG', 'succeeded'), job('d', 't-2-z.JPEG', 'queued'), job('e', 't-3-w.JPEG', 'succeeded')]
  const labels = new Map([['t-1-x.JPEG', 'n1'], ['t-10-y.JPEG', 'n1']])
  const row = rowOf(0.4, 'ours', report, jobs, labels)
  assert.equal(row.lost, 1, 'd was acknowledged and is still queued')
  assert.equal(row.duplicated, 1, 't-10 got two different jobs (and t-1 is not confused with t-10)')
  assert.equal(row.unacknowledgedJobs, 1, 'e was made but never acknowledged')
  assert.equal(row.completed, 3)
  assert.equal(row.goodput, 1.5)
  assert.equal(row.throughput, 3)
  assert.equal(row.accuracy, 2 / 3)
  assert.equal(row.avgExecutionS, 2)
})

test('the client sends photos as they are until the link loses packets (over a set share of its TCP segments resent), model-sized from then on', () => {
  let counts = { out: 1_000, retrans: 10 }
  const auto = new ShrinkPolicy('auto', () => counts, { resentAbove: 0.05 })
  const slow = { startedAt: 0, ackedAt: 5_000 }
  counts = { out: 1_150, retrans: 40 }
  assert.equal(auto.observe(slow), false, 'fewer than 200 segments: too few to tell, and a slow answer alone does not count')
  counts = { out: 1_400, retrans: 28 }
  assert.equal(auto.observe(slow), false, '18 of 400 resent (4.5 %)')
  assert.equal(auto.shrinkNext, false)
  counts = { out: 1_600, retrans: 50 }
  assert.equal(auto.observe({ startedAt: 0, ackedAt: 10 }), true, '40 of 600 resent (6.7 %), however fast the upload')
  assert.equal(auto.shrinkNext, true)
  const fresh = () => ({ out: 0, retrans: 0 })
  let c = fresh()
  const byDefault = new ShrinkPolicy('auto', () => c)
  c = { out: 1_000, retrans: 250 }
  assert.equal(byDefault.observe(slow), false, 'by default 25 % resent is not enough')
  c = { out: 1_000, retrans: 350 }
  assert.equal(byDefault.observe(slow), true, '35 % is')
  counts = { out: 1_700, retrans: 50 }
  assert.equal(auto.observe(slow), false, 'it stays switched')
  assert.equal(auto.shrinkNext, true)
})

test('without segment counters (not Linux) the client switches once an upload is answered after over a second', () => {
  const auto = new ShrinkPolicy('auto', () => null, { slowMs: 1_000 })
  assert.equal(auto.observe({ startedAt: 0, ackedAt: 900 }), false)
  assert.equal(auto.observe({ startedAt: 100, ackedAt: 1_200 }), true)
  assert.equal(new ShrinkPolicy('auto', () => null).observe({ startedAt: 0, ackedAt: null }), true, 'never acknowledged counts as slow')
  const never = new ShrinkPolicy('never', () => ({ out: 0, retrans: 0 }))
  never.observe({ startedAt: 0, ackedAt: null })
  assert.equal(never.shrinkNext, false)
  assert.equal(new ShrinkPolicy('always').shrinkNext, true)
})

test('segment counts are read from /proc/net/snmp (its Tcp lines)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hivesight-snmp-'))
  try {
    const file = join(dir, 'snmp')
    writeFileSync(file, 'Ip: Forwarding DefaultTTL\nIp: 1 64\nTcp: RtoAlgorithm RtoMin InSegs OutSegs RetransSegs InErrs\nTcp: 1 200 1432281 1366732 20470 0\nUdp: InDatagrams\nUdp: 5\n')
    assert.deepEqual(readSegmentCounts(file), { out: 1366732, retrans: 20470 })
    assert.equal(readSegmentCounts(join(dir, 'missing')), null)
    if (process.platform === 'linux') assert.ok(readSegmentCounts() !== null, 'this Linux host has /proc/net/snmp')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('eval:loss, short: our client loses and duplicates nothing at 0.4 loss on a 100 Mbit/s link (root only)', { timeout: 150_000, skip: isRoot() ? false : 'needs root (network namespace, tc, nftables)' }, async () => {
  const images = spreadSample(readLabelledDataset(DATASET).filter((i) => i.subset !== 'val-227'), 8)
  const rows: LossRow[] = await runLossExperiment({
    images, rates: [0, 0.4], mbit: 100, bothWays: false, deadlineS: 90, log: () => undefined,
    variants: [{ name: 'ours', mode: 'ours', args: ['--inflight', '8', '--shrink', 'auto', '--race-connect-ms', '500'], tcp: { rtoMinMs: 10, thinLinear: true } }],
  }, () => undefined)
  assert.equal(rows.length, 2)
  for (const r of rows) {
    assert.equal(r.accepted, r.submitted, `loss ${r.loss}: every image acknowledged`)
    assert.equal(r.lost, 0, `loss ${r.loss}: lost`)
    assert.equal(r.duplicated, 0, `loss ${r.loss}: duplicated`)
    assert.equal(r.completed, r.submitted, `loss ${r.loss}: every image classified`)
    assert.ok(r.goodput > 0.4, `loss ${r.loss}: goodput ${r.goodput}`)
  }
  assert.ok(rows[1]!.attempts > rows[1]!.submitted || rows[1]!.uploadPhaseS > rows[0]!.uploadPhaseS, 'the loss was applied (retries or a slower upload phase)')
  assert.ok(rows[0]!.accuracy! >= 0.5, `accuracy ${rows[0]!.accuracy}`)
  // This run's own link (another eval:loss may be running on the machine with its own).
  const id = new LossyLink().host.ns.split('-').pop()
  const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout
  assert.ok(!left.split('\n').some((l) => l.startsWith(`hs-ls-${id} `) || l === `hs-ls-${id}`), `namespace left behind: ${left}`)
  assert.equal(spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' }).stdout.includes(`hivesight_loss_${id}`), false, 'nft table left behind')
})
