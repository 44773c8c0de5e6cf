import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { JobResult, WorkerHello } from '@hivesight/protocol'
import type { AnswerStore, FailureDecision, ResultRow } from '../../src/db/answer-store.ts'
import type { LeaseState } from '../../src/db/job.repository.ts'
import { AnswerRecorder } from '../../src/jobs/answer-recorder.ts'
import { FakeClock } from '../../src/jobs/clock.ts'
import type { ClusterSignals } from '../../src/jobs/cluster-signals.ts'
import { newCounters } from '../../src/jobs/counters.ts'
import { noMetrics } from '../../src/jobs/job-metrics.ts'
import type { ResolvedVersion } from '../../src/models/model-lookup.ts'
import { WorkerRegistry } from '../../src/workers/worker-registry.ts'

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined }
const hello = { type: 'worker.hello', protocol: 1, kind: 'headless', slots: 4, backend: 'wasm', threads: 1, simd: true } as unknown as WorkerHello

/** Leases in memory: job id → its current lease; written results and failures are logged. */
class FakeAnswerStore implements AnswerStore {
  leases = new Map<string, LeaseState>()
  written = new Map<string, string>()
  fastPaths = 0
  lockedPaths = 0
  failures: string[] = []
  async commitIfAllCurrent(rows: ResultRow[]) {
    this.fastPaths++
    const all = rows.every((r) => { const l = this.leases.get(r.id); return l?.status === 'running' && l.lease_token === r.token && l.worker_id === r.workerId })
    if (all) for (const r of rows) this.write(r)
    return all ? [] : false
  }
  async commitCurrent(rows: ResultRow[], _now: number, _signal: unknown, current: (facts: LeaseState | undefined, row: ResultRow) => boolean) {
    this.lockedPaths++
    const done = rows.filter((r) => current(this.leases.get(r.id), r))
    for (const r of done) this.write(r)
    return { ids: done.map((r) => r.id), opinions: [] }
  }
  async recordFailure(fence: { id: string }, _now: number, code: string, _message: string, decide: (facts: LeaseState | undefined) => FailureDecision) {
    const d = decide(this.leases.get(fence.id))
    this.failures.push(`${fence.id} ${code} ${d.outcome}`)
    return d.outcome
  }
  async release() {
    return true
  }
  private write(r: ResultRow) {
    this.written.set(r.id, r.resultJson)
    this.leases.set(r.id, { ...this.leases.get(r.id)!, status: 'succeeded' })
  }
}

function setup() {
  const store = new FakeAnswerStore()
  const registry = new WorkerRegistry()
  registry.add({ id: 'w1', hello, trust: { trusted: true, identity: 'w1', network: null }, slots: 4, draining: false, channel: { sendFrame: () => true, sendMessage: () => true, close: () => undefined } })
  const finished: string[] = []
  const accepted: string[] = []
  const counters = newCounters()
  const version = { id: 'v'.repeat(64), name: 'm', version: 1, descriptor: { labelOffset: 1, outputs: 1001 } } as unknown as ResolvedVersion
  const model = { cached: (id: string) => (id === version.id ? version : undefined) }
  const signals = { row: () => ({ kind: 'k', origin: 'o', payload: '{}', created_at: 0 }), publish: async () => undefined } as unknown as ClusterSignals
  const recorder = new AnswerRecorder(store, model, registry, signals, new FakeClock(1_000), silent, noMetrics, counters, {
    slotFreed: () => undefined, finished: (ids) => finished.push(...ids), requeued: () => undefined,
    resultAccepted: (workerId, t) => accepted.push(`${workerId} ${t.decodeMs}/${t.inferMs}`),
  })
  const lease = (id: string, token = 1, attempts = 1) => {
    store.leases.set(id, { id, status: 'running', lease_token: token, worker_id: 'w1', attempts, max_attempts: 3, lease_untrusted: 0 })
    registry.hold('w1', id, { token, leaseExpiresAt: 9_999, submittedAt: 0 })
  }
  const result = (jobId: string, leaseToken = 1): JobResult => ({ type: 'job.result', jobId, leaseToken, model: 'v'.repeat(64), top: [{ index: 1, score: 0.9 }], timings: { decodeMs: 1, inferMs: 2 } })
  return { store, registry, finished, accepted, counters, recorder, lease, result }
}

test('results from the current holders are written in one fenced pass; a replay of one of them is refused, not rewritten', async () => {
  const { store, finished, accepted, counters, recorder, lease, result, registry } = setup()
  lease('a')
  lease('b')
  await Promise.all([recorder.record('w1', result('a')), recorder.record('w1', result('b'))])
  assert.deepEqual([...store.written.keys()].sort(), ['a', 'b'])
  assert.equal(store.lockedPaths, 0, 'no row-by-row check when every answer is current')
  assert.equal(registry.inFlight, 0, 'the slots are free')
  await recorder.record('w1', result('a'))
  assert.deepEqual([counters.completed, counters.staleResults], [2, 1])
  assert.deepEqual(finished.sort(), ['a', 'b'])
  assert.deepEqual(accepted, ['w1 1/2', 'w1 1/2'], 'the worker\'s figures count accepted results, not the replay')
})

test('one stale answer in a batch sends the batch down the checked path: the current ones are written, the stale one refused', async () => {
  const { store, counters, recorder, lease, result } = setup()
  lease('a')
  lease('b', 2)
  await Promise.all([recorder.record('w1', result('a')), recorder.record('w1', result('b', 1))])
  assert.deepEqual([...store.written.keys()], ['a'])
  assert.equal(store.lockedPaths, 1)
  assert.deepEqual([counters.completed, counters.staleResults], [1, 1])
})

test('a failure is decided on the locked lease: retried while attempts last, dead after, final when not retryable, refused when stale', async () => {
  const { store, counters, recorder, lease } = setup()
  lease('a', 1, 1)
  lease('b', 1, 3)
  lease('c', 1, 1)
  const failed = (jobId: string, retryable: boolean, leaseToken = 1) => recorder.record('w1', { type: 'job.failed', jobId, leaseToken, code: 'INFERENCE_FAILED', message: 'm', retryable })
  await failed('a', true)
  await failed('b', true)
  await failed('c', false)
  await failed('c', false, 7)
  assert.deepEqual(store.failures, ['a INFERENCE_FAILED retry', 'b INFERENCE_FAILED dead', 'c INFERENCE_FAILED failed', 'c INFERENCE_FAILED stale'])
  assert.deepEqual([counters.deadJobs, counters.failed, counters.staleResults], [1, 1, 1])
})

test('answers that arrive while the database is down are kept, and the next flush applies them (even after an empty flush)', { timeout: 5_000 }, async () => {
  const { store, counters, recorder, lease, result } = setup()
  // The sweep flushes on every tick, usually with nothing buffered: that must not leave a flush "in progress".
  await recorder.flushBuffered()
  lease('a')
  const write = store.commitIfAllCurrent.bind(store)
  store.commitIfAllCurrent = async () => {
    throw new Error('connect ECONNREFUSED')
  }
  await recorder.record('w1', result('a'))
  assert.equal(recorder.bufferedCount, 1)
  assert.equal(counters.bufferedResults, 1)
  await assert.rejects(recorder.flushBuffered(), /ECONNREFUSED/, 'still down: it stays buffered')
  assert.equal(recorder.bufferedCount, 1)
  store.commitIfAllCurrent = write
  await recorder.flushBuffered()
  assert.equal(recorder.bufferedCount, 0)
  assert.deepEqual([...store.written.keys()], ['a'], 'applied once the database is back, on its first lease')
  assert.equal(counters.completed, 1)
})
