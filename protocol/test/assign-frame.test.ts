import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeAssignFrame, decodeFromWorker, encodeAssignFrame } from '../src/index.ts'

const header = { type: 'job.assign' as const, jobId: 'j1', leaseToken: 3, attempt: 2, contentType: 'image/jpeg', model: 'a'.repeat(64) }

test('a job.assign frame carries its header and the image bytes intact', () => {
  const image = new Uint8Array([0xff, 0xd8, 0xff, 0, 1, 2])
  const decoded = decodeAssignFrame(encodeAssignFrame(header, image))
  assert.ok(decoded.ok)
  assert.deepEqual(decoded.header, header)
  assert.deepEqual([...decoded.image], [...image])
})

test('truncated or forged frames are refused, not thrown', () => {
  const frame = encodeAssignFrame(header, new Uint8Array(4))
  assert.equal(decodeAssignFrame(frame.subarray(0, 3)).ok, false)
  assert.equal(decodeAssignFrame(frame.subarray(0, 10)).ok, false)
  const huge = new Uint8Array(8)
  new DataView(huge.buffer).setUint32(0, 0xffffffff)
  assert.equal(decodeAssignFrame(huge).ok, false)
})

test('worker messages are checked against the one schema: ranges, extra fields, unknown types', () => {
  const result = { type: 'job.result', jobId: 'j', leaseToken: 1, model: 'a'.repeat(64), top: [{ index: 1, score: 0.5 }], timings: { decodeMs: 1, inferMs: 2 } }
  const ok = decodeFromWorker(JSON.stringify(result))
  assert.equal(ok.ok, true)
  for (const bad of [
    '{',
    JSON.stringify({ ...result, top: [{ index: -1, score: 0.5 }] }),
    JSON.stringify({ ...result, top: [{ index: 1, score: 1.5 }] }),
    JSON.stringify({ ...result, top: [] }),
    JSON.stringify({ ...result, extra: 1 }),
    JSON.stringify({ ...result, model: undefined }),
    JSON.stringify({ type: 'worker.hello', protocol: 1, kind: 'headless', slots: 99, backend: 'wasm', threads: 1, simd: true }),
    JSON.stringify({ type: 'nope' }),
  ]) {
    assert.equal(decodeFromWorker(bad).ok, false, bad)
  }
})
