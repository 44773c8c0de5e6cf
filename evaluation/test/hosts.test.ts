import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { checkRun } from '../src/hosts/checker.ts'
import { leftovers } from '../src/hosts/network.ts'
import { runHosts } from '../src/hosts/run.ts'
import { rigCgroups } from '../src/hosts/runtime-host.ts'
import { refusedWithoutRetryAfter } from '../src/hosts/upload-clients.ts'

const root = process.getuid?.() === 0

// The checker the rig's verdict rests on, on known histories (as root the rig below runs too).
test('the hosts checker counts a lost job and passes a retried key answered with the same jobs', { timeout: 10_000 }, () => {
  const v = checkRun([{ key: 'k', acks: [['a'], ['a']] }], new Map([['a', 'succeeded']]), [{ jobId: 'a', worker: 'w1', from: 0, to: 5 }, { jobId: 'a', worker: 'w2', from: 6, to: 9 }], [])
  assert.deepEqual([v.lost, v.duplicated, v.heldTwice, v.ok], [0, 0, 0, true])
  assert.equal(checkRun([{ key: 'k', acks: [['a']] }], new Map(), [], []).lost, 1)
})

test('hosts rig: 3 Galera nodes, 2 coordinators behind HAProxy in namespaces; kill -9 of a Galera node, rejoin, with a Chromium runtime on a worker host and clients on client hosts: 0 lost, 0 duplicated, 0 held twice, nothing left behind', { timeout: 300_000 }, async () => {
  // Network namespaces need root; without it there is no rig to run, and the checker test above is what runs.
  if (!root) return console.log('# not root: eval:hosts needs root for network namespaces (sudo npm test runs the rig)')
  assert.equal(spawnSync('ip', ['-V']).status, 0, 'iproute2')
  const r = await runHosts({ faults: ['galera-node-kill'], jobs: 400, imagesPerRequest: 5, workers: 4, slots: 4, runtimes: 1, runtimeCores: 0.25, dbLatencyMs: 2, writers: 'multi', syncWait: 1, log: (m) => console.log(`# ${m}`) })
  console.log(`# ${JSON.stringify(r)}`)
  assert.equal(r.acknowledged, 400)
  assert.equal(r.lost, 0, JSON.stringify(r.galera))
  assert.equal(r.duplicated, 0)
  assert.equal(r.heldTwice, 0)
  assert.equal(r.fencedAccepted, 0, 'no stored result from a lease other than the job\'s last')
  assert.ok(r.signedAnswersChecked >= r.acknowledged / 2, `the simulated workers' answers were checked (${r.signedAnswersChecked})`)
  assert.equal(r.faults.length, 1)
  assert.ok(r.faults[0]!.recoveredInS > 0)
  assert.equal(refusedWithoutRetryAfter(r.clientSaw), 0, `every 503 said when to come back: ${JSON.stringify(r.clientSaw)}`)
  assert.deepEqual(leftovers(), [], 'no namespace, veth or bridge of the rig left')
  assert.deepEqual(rigCgroups(), [], 'no CPU cgroup of a Chromium runtime left')
  assert.equal(spawnSync('pgrep', ['-f', 'delay-proxy-main|hosts/client-main|cli.mjs --coordinator http://10.77.0.30'], { encoding: 'utf8' }).stdout.trim(), '', 'no proxy, client or runtime process left')
  const ps = spawnSync('pgrep', ['-f', 'wsrep-cluster-name=hivesight'], { encoding: 'utf8' })
  assert.equal(ps.stdout.trim(), '', 'no Galera node left running')
})
