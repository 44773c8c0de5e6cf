import assert from 'node:assert/strict'
import { test } from 'node:test'
import { newJobId } from '../../src/jobs/job-ids.ts'

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

test('job ids are UUIDv7, unique and in order, also many within one millisecond and across pool refills', { timeout: 10_000 }, () => {
  const ids = Array.from({ length: 5_000 }, (_, i) => newJobId(1_700_000_000_000 + Math.floor(i / 2_000)))
  for (const id of ids.slice(0, 3)) assert.match(id, UUID_V7)
  assert.equal(new Set(ids).size, ids.length)
  assert.deepEqual([...ids].sort(), ids, 'sorted as made')
  // The clock stepping back (NTP) does not make an id smaller than the last.
  const before = newJobId(1_700_000_000_005)
  assert.ok(newJobId(1_699_999_999_000) > before)
  assert.equal(ids[0]!.slice(0, 13).replace('-', ''), (1_700_000_000_000).toString(16).padStart(12, '0'), 'the millisecond is in front')
})
