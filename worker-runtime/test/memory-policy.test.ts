import assert from 'node:assert/strict'
import { test } from 'node:test'
import { needsRestart } from '../src/page/memory-policy.ts'

test('the inference worker is replaced only after an eviction left the wasm heap above its limit', { timeout: 5_000 }, () => {
  const MiB = 2 ** 20
  assert.equal(needsRestart({ evicted: 1, heapBytes: 300 * MiB }, 256 * MiB), true)
  assert.equal(needsRestart({ evicted: 1, heapBytes: 200 * MiB }, 256 * MiB), false, 'under the limit')
  assert.equal(needsRestart({ evicted: 0, heapBytes: 900 * MiB }, 256 * MiB), false, 'nothing was evicted: the memory is in use')
})
