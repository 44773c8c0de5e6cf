import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MAX_BUFFERED_BYTES, sendBufferStalled } from '../../src/ws/send-buffer-watch.ts'

const MiB = 1024 * 1024

test('over the limit with nothing drained is a stall; a burst that drains, or a buffer under the limit, is not', { timeout: 5_000 }, () => {
  assert.equal(MAX_BUFFERED_BYTES, 32 * MiB)
  assert.equal(sendBufferStalled(40 * MiB, 0, 40 * MiB), true, 'not one byte read in a whole check')
  assert.equal(sendBufferStalled(40 * MiB, 10 * MiB, 50 * MiB), true, 'grew by exactly what was sent: nothing read')
  assert.equal(sendBufferStalled(160 * MiB, 0, 100 * MiB), false, 'a burst being read')
  assert.equal(sendBufferStalled(40 * MiB, 20 * MiB, 50 * MiB), false, 'grew, but less than was sent: it reads')
  assert.equal(sendBufferStalled(20 * MiB, 0, 20 * MiB), false, 'under the limit, however slow')
})
