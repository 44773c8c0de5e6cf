import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeAssignFrame, type WorkerHello } from '@hivesight/protocol'
import type { AssignmentPlan, ClaimedJob, DispatchStore } from '../../src/db/dispatch-store.ts'
import { FakeClock } from '../../src/jobs/clock.ts'
import { newCounters } from '../../src/jobs/counters.ts'
import { DispatchPump } from '../../src/jobs/dispatch-pump.ts'
import { noMetrics } from '../../src/jobs/job-metrics.ts'
import { WorkerRegistry } from '../../src/workers/worker-registry.ts'

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined }
const hello = { type: 'worker.hello', protocol: 1, kind: 'headless', slots: 1, backend: 'wasm', threads: 1, simd: true } as unknown as WorkerHello

/** A queue in memory: claim order is the array's order; every claim is logged. */
class FakeStore implements DispatchStore {
  queue: string[] = []
  claims: number[] = []
  missing = new Set<string>()
  failed: string[] = []
  private gate: Promise<void> = Promise.resolve()
  private open: () => void = () => undefined
  /** Holds claims until `release()`, as a slow database would. */
  hold(): void {
    this.gate = new Promise((r) => (this.open = r))
  }
  release(): void {
    this.open()
  }
  async claim(wanted: number, plan: AssignmentPlan, now: number, expiresAt: number) {
    this.claims.push(wanted)
    await this.gate
    const ids = this.queue.splice(0, wanted)
    const job = (id: string): ClaimedJob => ({ id, leaseToken: 1, attempt: 1, contentType: 'image/png', submittedAt: now - 5, availableAt: now - 5, hasOpinions: false, model: 'a'.repeat(64) })
    assert.ok(expiresAt > now)
    return [...plan(ids.map((id) => ({ id, model: 'a'.repeat(64) })))].map(([workerId, jobIds]) => ({ workerId, jobs: jobIds.map(job) }))
  }
  async images(ids: string[]) {
    return new Map(ids.filter((id) => !this.missing.has(id)).map((id) => [id, Buffer.from(id)]))
  }
  async failMissing(jobId: string) {
    this.failed.push(jobId)
    return true
  }
}

function setup(slots: number[]) {
  const store = new FakeStore()
  const registry = new WorkerRegistry()
  const frames = new Map<string, string[]>()
  const takenBack: string[][] = []
  const finished: string[] = []
  for (const [i, n] of slots.entries()) {
    const id = `w${i + 1}`
    frames.set(id, [])
    registry.add({ id, hello, trust: { trusted: true, identity: id, network: null }, slots: n, draining: false, channel: {
      sendFrame: (f) => {
        const d = decodeAssignFrame(f)
        if (d.ok) frames.get(id)!.push(d.header.jobId)
        return true
      },
      sendMessage: () => true,
      close: () => undefined,
    } })
  }
  const recovery = { takeBack: async (scope: { workerIds?: string[] }) => (takenBack.push(scope.workerIds ?? []), { requeued: 0, dead: 0 }) }
  const pump = new DispatchPump(store, registry, recovery, new FakeClock(1_000), silent, noMetrics, newCounters(), { leaseMs: 60_000, onFinished: (ids) => finished.push(...ids) })
  const settle = async () => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r))
  }
  return { store, registry, frames, takenBack, finished, pump, settle }
}

test('wake-ups during a claim coalesce into one more pass that claims for every slot freed meanwhile', async () => {
  const { store, registry, frames, pump, settle } = setup([2, 2])
  store.queue = ['a', 'b', 'c', 'd', 'e', 'f']
  store.hold()
  pump.jobsMayBeQueued()
  for (let i = 0; i < 10; i++) pump.jobsMayBeQueued()
  store.release()
  await settle()
  assert.deepEqual(store.claims, [4], 'ten wake-ups while a claim ran: no extra claims with nothing free')
  assert.deepEqual([frames.get('w1'), frames.get('w2')], [['a', 'c'], ['b', 'd']], 'spread, in claim order')
  registry.release('w1', 'a')
  registry.release('w2', 'b')
  pump.pump()
  pump.pump()
  await settle()
  assert.deepEqual(store.claims, [4, 2])
  assert.equal(registry.inFlight, 4)
})

test('once a claim finds less than it asked for, the queue is known empty until something may have queued work', async () => {
  const { store, registry, pump, settle } = setup([4])
  store.queue = ['a']
  pump.jobsMayBeQueued()
  await settle()
  assert.deepEqual(store.claims, [4])
  registry.release('w1', 'a')
  pump.pump() // a slot freed, nothing new queued: no query
  await settle()
  assert.deepEqual(store.claims, [4])
  store.queue = ['b']
  pump.jobsMayBeQueued()
  await settle()
  assert.deepEqual(store.claims, [4, 4])
})

test('a worker gone while its jobs were claimed has them taken back; a missing image fails its job by name', async () => {
  const { store, registry, frames, takenBack, finished, pump, settle } = setup([1, 1])
  store.queue = ['a', 'b']
  store.missing.add('b')
  store.hold()
  pump.jobsMayBeQueued()
  await settle()
  registry.remove('w1')
  store.release()
  await settle()
  assert.deepEqual(takenBack, [['w1']])
  assert.deepEqual(frames.get('w1'), [])
  assert.deepEqual(store.failed, ['b'])
  assert.deepEqual(finished, ['b'])
  assert.equal(registry.inFlight, 0, 'the slot of the failed job is free again')
})

test('draining: nothing new goes out', async () => {
  const { store, pump, settle } = setup([2])
  store.queue = ['a']
  pump.startDrain()
  pump.jobsMayBeQueued()
  await settle()
  assert.deepEqual(store.claims, [])
})
