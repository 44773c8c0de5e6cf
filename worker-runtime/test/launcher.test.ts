import assert from 'node:assert/strict'
import { test } from 'node:test'
import { reconnectDelay } from '../src/page/connection.ts'
import { ChromiumNotFound, findChromium } from '../src/launcher/chromium-path.ts'

test('CHROMIUM_PATH wins, then the usual places, else a message that says how to install one', () => {
  assert.equal(findChromium({ CHROMIUM_PATH: '/opt/chrome' }, (p) => p === '/opt/chrome'), '/opt/chrome')
  assert.throws(() => findChromium({ CHROMIUM_PATH: '/missing' }, () => false), /does not exist/)
  assert.equal(findChromium({}, (p) => p === '/usr/bin/chromium'), '/usr/bin/chromium')
  assert.throws(() => findChromium({}, () => false), (e) => e instanceof ChromiumNotFound && /apt-get install -y chromium/.test(e.message))
})

test('reconnect delays grow exponentially with jitter and stay capped', () => {
  assert.equal(reconnectDelay(0, () => 0), 125)
  assert.equal(reconnectDelay(0, () => 1), 250)
  assert.equal(reconnectDelay(3, () => 1), 2_000)
  assert.equal(reconnectDelay(50, () => 1), 10_000)
  assert.equal(reconnectDelay(50, () => 0), 5_000)
})
