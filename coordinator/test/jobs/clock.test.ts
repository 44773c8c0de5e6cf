import assert from 'node:assert/strict'
import { test } from 'node:test'
import { bestOffset, FakeClock, SyncedClock } from '../../src/jobs/clock.ts'

test('a host clock 20 s ahead reads the database time once synced; a slow, lopsided sample does not move it', async () => {
  const host = new FakeClock(1_020_000) // the database says 1 000 000
  // The database reads its clock `before` ms into a round trip of `rtt` ms; the host's clock moves meanwhile.
  let sample = { rtt: 4, before: 2 }
  const readDb = async () => {
    host.advance(sample.before)
    const dbNow = host.now() - 20_000
    host.advance(sample.rtt - sample.before)
    return dbNow
  }
  const clock = new SyncedClock(host, readDb)
  assert.equal(clock.now(), 1_020_000, 'before a sync: the host clock')
  await clock.sync()
  assert.equal(clock.offset, -20_000)
  assert.equal(clock.now(), host.now() - 20_000)
  sample = { rtt: 400, before: 390 } // its midpoint estimate is 190 ms off
  await clock.sync()
  assert.equal(clock.offset, -20_000, 'the shortest round trip wins')
})

test('bestOffset: the sample with the shortest round trip, 0 with none', () => {
  assert.equal(bestOffset([{ rttMs: 400, offsetMs: -19_800 }, { rttMs: 4, offsetMs: -20_000 }]), -20_000)
  assert.equal(bestOffset([]), 0)
})

test('the embedded database shares the host clock: a sync that reads nothing leaves it alone', async () => {
  const host = new FakeClock(5_000)
  const clock = new SyncedClock(host, async () => null)
  await clock.sync()
  assert.equal(clock.now(), 5_000)
})
