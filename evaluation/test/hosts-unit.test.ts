import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkRun, fencedAnswers, longestGapMs, sumConflicts } from '../src/hosts/checker.ts'
import { parseFaults } from '../src/hosts/faults.ts'
import { recoveredPosition } from '../src/hosts/galera.ts'
import { haproxyConfig } from '../src/hosts/haproxy.ts'
import { missingPackages } from '../src/hosts/needs.ts'
import { compareSchedule, summarizeCompare } from '../src/hosts/compare.ts'
import { throughDelayProxy } from '../src/hosts/delay-link.ts'
import { databaseUrls } from '../src/hosts/rig.ts'
import { cfsQuotaUs } from '../src/hosts/runtime-host.ts'
import { classifyAnswer, refusedWithoutRetryAfter } from '../src/hosts/upload-clients.ts'
import { toLocalTimeline } from '../src/hosts/worker-host.ts'

test('checker: lost, duplicated and held twice are each caught; a clean history passes', { timeout: 5_000 }, () => {
  const ok = checkRun([{ key: 'k', acks: [['a', 'b'], ['b', 'a']] }], new Map([['a', 'succeeded'], ['b', 'succeeded']]), [], [])
  assert.deepEqual({ ...ok, faults: undefined }, { acknowledged: 2, lost: 0, duplicated: 0, heldTwice: 0, fencedAccepted: 0, faults: undefined, ok: true })
  const lost = checkRun([{ key: 'k', acks: [['a', 'b']] }], new Map([['a', 'succeeded'], ['b', 'queued']]), [], [])
  assert.equal(lost.lost, 1)
  assert.equal(lost.ok, false)
  assert.equal(checkRun([{ key: 'k', acks: [['a'], ['c']] }], new Map([['a', 'succeeded'], ['c', 'succeeded']]), [], []).duplicated, 1)
  const h = (worker: string, from: number, to: number) => ({ jobId: 'a', worker, from, to })
  const twice = checkRun([{ key: 'k', acks: [['a']] }], new Map([['a', 'succeeded']]), [h('w1', 0, 10), h('w2', 5, 12)], [])
  assert.equal(twice.heldTwice, 1)
  assert.equal(twice.ok, false)
  assert.equal(checkRun([], new Map(), [], []).acknowledged, 0)
})

test('checker: the longest stretch without an acknowledgement; Galera counters summed', { timeout: 5_000 }, () => {
  assert.equal(longestGapMs([1, 2, 10, 11], 0, 20), 9)
  assert.equal(longestGapMs([], 5, 9), 4)
  assert.deepEqual(sumConflicts({ g1: { certFailures: 2, bfAborts: 1 }, g2: { certFailures: 3, bfAborts: 0 } }), { certFailures: 5, bfAborts: 1 })
})

test('faults: names and all', { timeout: 5_000 }, () => {
  assert.deepEqual(parseFaults('galera-node-kill,coordinator-kill'), ['galera-node-kill', 'coordinator-kill'])
  assert.ok(parseFaults('all').length >= 3)
  assert.throws(() => parseFaults('power-cut'), /unknown fault/)
  assert.deepEqual(parseFaults('none,coordinator-kill'), [null, 'coordinator-kill'])
})

test('galera: the position recovered from InnoDB after kill -9, none when unknown', { timeout: 5_000 }, () => {
  const log = '... [Note] WSREP: Recovered position: 2ad4cf8e-f019-11f1-92c3-2e8649ba94b4:1234\n'
  assert.equal(recoveredPosition(log), '2ad4cf8e-f019-11f1-92c3-2e8649ba94b4:1234')
  assert.equal(recoveredPosition('WSREP: Recovered position: 00000000-0000-0000-0000-000000000000:-1'), null)
  assert.equal(recoveredPosition(''), null)
})

test('rig: each coordinator lists every node with its own first (multi-writer), or the balancer (single)', { timeout: 5_000 }, () => {
  const ips = ['10.77.0.11', '10.77.0.12', '10.77.0.13']
  assert.deepEqual(databaseUrls('multi', ips, '10.77.0.30', 2), [
    'mysql://hivesight@10.77.0.11:3306,10.77.0.12:3306,10.77.0.13:3306/hivesight',
    'mysql://hivesight@10.77.0.12:3306,10.77.0.13:3306,10.77.0.11:3306/hivesight',
  ])
  assert.deepEqual(databaseUrls('single', ips, '10.77.0.30', 2), ['mysql://hivesight@10.77.0.30:3306/hivesight', 'mysql://hivesight@10.77.0.30:3306/hivesight'])
  assert.deepEqual(databaseUrls('plain', ips.slice(0, 1), '10.77.0.30', 2), ['mysql://hivesight@10.77.0.11:3306/hivesight', 'mysql://hivesight@10.77.0.11:3306/hivesight'])
})

test('clients: a coordinator\'s 503 must carry Retry-After; HAProxy\'s own 503 is told apart; no answer is a connection error', { timeout: 5_000 }, () => {
  assert.equal(classifyAnswer(202, 'application/json', null), '202')
  assert.equal(classifyAnswer(503, 'application/json; charset=utf-8', '2'), '503 coordinator, Retry-After')
  assert.equal(classifyAnswer(503, 'application/json', null), '503 coordinator, no Retry-After')
  assert.equal(classifyAnswer(503, 'text/html', null), '503 balancer, no Retry-After')
  assert.equal(classifyAnswer(503, 'text/html', '2'), '503 balancer, Retry-After')
  assert.equal(refusedWithoutRetryAfter({ '202': 9, '503 balancer, no Retry-After': 2, '503 coordinator, no Retry-After': 1, '503 coordinator, Retry-After': 5 }), 3)
  assert.equal(classifyAnswer(0, null, null), 'connection error')
  assert.equal(classifyAnswer(429, 'application/json', '1'), '429')
})

test('compare: every mode once per round, rotated; medians and the ratio to plain MariaDB', { timeout: 5_000 }, () => {
  assert.deepEqual(compareSchedule(['plain', 'single', 'multi'], 2), ['plain', 'single', 'multi', 'single', 'multi', 'plain'])
  const s = summarizeCompare([{ writers: 'plain', jobsPerS: 400 }, { writers: 'single', jobsPerS: 300 }, { writers: 'plain', jobsPerS: 500 }, { writers: 'single', jobsPerS: 250 }, { writers: 'multi', jobsPerS: 90 }])
  assert.deepEqual(s.map((m) => [m.writers, m.median, m.ratioToPlain]), [['plain', 450, 1], ['single', 275, 0.61], ['multi', 90, 0.2]])
  assert.equal(summarizeCompare([{ writers: 'multi', jobsPerS: 1 }])[0]!.ratioToPlain, null)
})

test('haproxy: /readyz checks, forwardfor, WebSocket tunnel timeout; single writer has one active node and backups', { timeout: 5_000 }, () => {
  const cfg = haproxyConfig({ listen: '10.77.0.30', coordinators: [{ name: 'c1', address: '10.77.0.21' }], galera: [
    { name: 'g1', address: '10.77.0.11', checkAddress: '10.77.0.1', checkPort: 9201 }, { name: 'g2', address: '10.77.0.12', checkAddress: '10.77.0.1', checkPort: 9202 }] })
  assert.match(cfg, /option httpchk GET \/readyz/)
  assert.match(cfg, /option forwardfor/)
  assert.match(cfg, /http-after-response set-header Retry-After 1 if \{ status 503 \}/)
  assert.match(cfg, /timeout tunnel/)
  assert.match(cfg, /server g1 10\.77\.0\.11:3306 check addr 10\.77\.0\.1 port 9201\n/)
  assert.match(cfg, /server g2 .* backup/)
  assert.doesNotMatch(haproxyConfig({ listen: 'x', coordinators: [] }), /listen galera/)
})

test('needs: the Debian packages to install for what is missing', { timeout: 5_000 }, () => {
  assert.deepEqual(missingPackages({ galera: true, mariadbd: true, mariadb: true, haproxy: false, nft: true, ip: true, rsync: true, faketime: false }), ['haproxy', 'faketime'])
})

test('worker host: holds recorded in epoch ms by another process land on this process\'s timeline', { timeout: 5_000 }, () => {
  assert.deepEqual(toLocalTimeline({ jobId: 'a', worker: 'w1-1', from: 1_000_500, to: 1_000_900 }, 1_000_000), { jobId: 'a', worker: 'w1-1', from: 500, to: 900 })
})

test('delay link: a DATABASE_URL\'s hosts reached through the delay proxy on the host\'s loopback, one port per address', { timeout: 5_000 }, () => {
  assert.deepEqual(throughDelayProxy('mysql://hivesight@10.77.0.12:3306,10.77.0.13:3306/hivesight', 13306), {
    url: 'mysql://hivesight@127.0.0.1:13306,127.0.0.1:13307/hivesight',
    routes: [{ listenPort: 13306, targetHost: '10.77.0.12', targetPort: 3306 }, { listenPort: 13307, targetHost: '10.77.0.13', targetPort: 3306 }],
  })
  assert.equal(throughDelayProxy('mysql://u:pw@10.77.0.30/db', 13306).url, 'mysql://u:pw@127.0.0.1:13306/db')
  assert.throws(() => throughDelayProxy('/tmp/hivesight.sqlite', 13306), /not a mysql/)
})

test('runtime host: a CPU limit in cores is a CFS quota per 100 ms period', { timeout: 5_000 }, () => {
  assert.equal(cfsQuotaUs(0.25), 25_000)
  assert.equal(cfsQuotaUs(1.5), 150_000)
  assert.throws(() => cfsQuotaUs(0), /above 0/)
})

test('checker: a stored result signed by an older lease than the job\'s last is a fenced answer accepted', { timeout: 5_000 }, () => {
  assert.equal(fencedAnswers([{ jobId: 'a', leaseToken: 1, top1: 1 }, { jobId: 'b', leaseToken: 3, top1: 3 }, { jobId: 'c', leaseToken: 1002, top1: 2 }]), 0)
  assert.equal(fencedAnswers([{ jobId: 'a', leaseToken: 2, top1: 1 }]), 1)
  const v = checkRun([{ key: 'k', acks: [['a']] }], new Map([['a', 'succeeded']]), [], [], [{ jobId: 'a', leaseToken: 2, top1: 1 }])
  assert.deepEqual([v.fencedAccepted, v.ok], [1, false])
})
