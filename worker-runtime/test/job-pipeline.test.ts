import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ClassScore, JobAssign } from '@hivesight/protocol'
import { JobPipeline, type Outcome } from '../src/page/job-pipeline.ts'

class DecodeError extends Error {}

/** Stages whose every prepare and infer waits until the test lets it finish, recording the order of events. */
function harness() {
  const events: string[] = []
  const sent: Outcome[] = []
  const pendingPrepare = new Map<string, { resolve: () => void; reject: (e: Error) => void }>()
  const pendingInfer: { id: string; resolve: () => void; reject: (e: Error) => void }[] = []
  let clock = 0
  const idOf = (image: Uint8Array) => new TextDecoder().decode(image)
  const pipeline = new JobPipeline({
    now: () => clock,
    isDecodeError: (e) => e instanceof DecodeError,
    send: (o) => {
      events.push(`sent ${o.jobId} ${o.type}`)
      sent.push(o)
    },
    prepare: (image) => {
      const id = idOf(image)
      events.push(`prepare ${id}`)
      return new Promise((resolve, reject) => pendingPrepare.set(id, {
        resolve: () => resolve(Float32Array.of(Number(id.slice(1)))),
        reject,
      }))
    },
    infer: (input) => {
      const id = `j${input[0]}`
      events.push(`infer ${id}`)
      return new Promise((resolve, reject) => pendingInfer.push({
        id,
        resolve: () => resolve({ top: [{ index: Number(id.slice(1)), score: 0.9 }] as ClassScore[], inferMs: 20 }),
        reject,
      }))
    },
  })
  const job = (id: string): JobAssign => ({ type: 'job.assign', jobId: id, leaseToken: Number(id.slice(1)) * 10, attempt: 1, contentType: 'image/jpeg', model: 'a'.repeat(64) })
  const add = (id: string) => pipeline.add(job(id), new TextEncoder().encode(id))
  const tick = () => new Promise((r) => setImmediate(r))
  const finishPrepare = async (id: string, after = 3) => {
    clock += after
    pendingPrepare.get(id)!.resolve()
    pendingPrepare.delete(id)
    await tick()
  }
  const finishInfer = async (fail?: Error) => {
    const p = pendingInfer.shift()!
    if (fail) p.reject(fail)
    else p.resolve()
    await tick()
  }
  return { pipeline, events, sent, add, finishPrepare, finishInfer, pendingPrepare, tick }
}

test('the next image is prepared while the current one is predicted, and answers keep their order', { timeout: 5_000 }, async () => {
  const h = harness()
  h.add('j1')
  h.add('j2')
  h.add('j3')
  assert.deepEqual(h.events, ['prepare j1'], 'one preparation at a time')
  await h.finishPrepare('j1', 4)
  assert.deepEqual(h.events, ['prepare j1', 'infer j1', 'prepare j2'], 'j2 is decoded while j1 runs')
  await h.finishPrepare('j2')
  assert.deepEqual(h.events.slice(3), [], 'no more than one input waits ahead of the running prediction')
  await h.finishInfer()
  assert.deepEqual(h.events.slice(3), ['sent j1 job.result', 'infer j2', 'prepare j3'])
  await h.finishPrepare('j3')
  await h.finishInfer()
  await h.finishInfer()
  assert.deepEqual(h.sent.map((o) => o.jobId), ['j1', 'j2', 'j3'])
  const first = h.sent[0]!
  assert.ok(first.type === 'job.result')
  assert.deepEqual(first.timings, { decodeMs: 4, inferMs: 20 })
  assert.equal(first.leaseToken, 10)
  await h.pipeline.idle()
  assert.equal(h.pipeline.size, 0)
})

test('an unreadable picture fails for good, a failed prediction may be retried, and the pipeline goes on', { timeout: 5_000 }, async () => {
  const h = harness()
  h.add('j1')
  h.add('j2')
  h.pendingPrepare.get('j1')!.reject(new DecodeError('not an image'))
  await h.tick()
  await h.finishPrepare('j2')
  await h.finishInfer(new Error('wasm trap'))
  assert.deepEqual(h.sent.map((o) => [o.jobId, o.type, o.type === 'job.failed' ? `${o.code}/${o.retryable}` : '']), [
    ['j1', 'job.failed', 'IMAGE_DECODE_FAILED/false'],
    ['j2', 'job.failed', 'INFERENCE_FAILED/true'],
  ])
})

test('cancelled jobs are dropped wherever they wait; a disconnect silences work already under way', { timeout: 5_000 }, async () => {
  const h = harness()
  h.add('j1')
  h.add('j2')
  h.add('j3')
  assert.equal(h.pipeline.cancel('j3'), 'dropped')
  assert.equal(h.pipeline.cancel('j1'), 'dropped', 'being prepared')
  await h.finishPrepare('j1')
  assert.ok(!h.events.includes('infer j1'), 'a job cancelled while it was decoded is never predicted')
  await h.finishPrepare('j2')
  assert.equal(h.pipeline.cancel('j2'), 'running')
  assert.equal(h.pipeline.cancel('nope'), 'unknown')
  h.add('j4')
  h.pipeline.clear()
  await h.finishInfer()
  await h.finishPrepare('j4')
  assert.deepEqual(h.sent, [], 'nothing is answered for a lease the coordinator has already taken back')
  await h.pipeline.idle()
})

test('a drain hands back every job whose prediction has not started and waits for the one that runs', { timeout: 5_000 }, async () => {
  const h = harness()
  for (const id of ['j1', 'j2', 'j3', 'j4']) h.add(id)
  await h.finishPrepare('j1')
  h.add('j5')
  // j1 runs, j2 is being prepared, j3 to j5 wait.
  const back = h.pipeline.takeUnstarted().map((j) => j.jobId).sort()
  assert.deepEqual(back, ['j2', 'j3', 'j4', 'j5'])
  let idle = false
  void h.pipeline.idle().then(() => (idle = true))
  await h.finishPrepare('j2')
  assert.ok(!h.events.includes('infer j2'), 'a job handed back is not predicted')
  assert.equal(idle, false, 'j1 still runs')
  await h.finishInfer()
  await h.tick()
  assert.equal(idle, true)
  assert.deepEqual(h.sent.map((o) => o.jobId), ['j1'])
})
