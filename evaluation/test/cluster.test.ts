import assert from 'node:assert/strict'
import { test } from 'node:test'
import { runCluster } from '../src/cluster/cluster-run.ts'
import { overlappingHolds } from '../src/cluster/holds.ts'

test('overlap check: two workers holding one job at the same time is caught; one after the other is not', () => {
  const h = (worker: string, from: number, to: number) => ({ jobId: 'j', worker, from, to })
  assert.equal(overlappingHolds([h('a', 0, 10), h('b', 10, 20)]).length, 0)
  assert.equal(overlappingHolds([h('a', 0, 10), h('b', 5, 20)]).length, 1)
  assert.equal(overlappingHolds([h('b', 5, 20), h('a', 0, 10), { ...h('c', 0, 99), jobId: 'k' }]).length, 1)
})

test('three coordinator processes on one MariaDB, one killed -9 and restarted, one 20 s ahead: 2 000 jobs, 0 lost, 0 duplicated, 0 leased twice at once, 0 IMAGE_MISSING; a cancel crosses coordinators in under 1 s', async () => {
  const r = await runCluster({ coordinators: 3, jobs: 2_000, imagesPerRequest: 5, workers: 6, slots: 4, skewMs: 20_000, log: (m) => console.log(`# ${m}`) })
  console.log(`# ${JSON.stringify(r)}`)
  assert.equal(r.accepted, 2_000)
  assert.equal(r.jobsInDatabase, 2_000, 'no retry made a second job')
  assert.equal(r.duplicated, 0)
  assert.equal(r.lost, 0, JSON.stringify(r.byStatus))
  assert.equal(r.leasedTwiceAtOnce, 0)
  assert.equal(r.imageMissing, 0)
  assert.equal(r.canceledStatus, 'canceled')
  assert.ok(r.crossCancelMs < 1_000, `cancel reached the worker on another coordinator after ${r.crossCancelMs} ms`)
  assert.ok(r.crossWakeMs < 1_000, `an upload on another coordinator reached an idle worker after ${r.crossWakeMs} ms`)
  assert.ok(r.killedAfterAcks > 0, 'a coordinator was killed mid-run')
  assert.ok(Object.keys(r.clientSaw).every((s) => s === '202' || s === '0' || s === '503'), `clients saw ${JSON.stringify(r.clientSaw)}`)
})
