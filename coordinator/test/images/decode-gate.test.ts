import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DecodeGate } from '../../src/images/decode-gate.ts'

const T = { timeout: 10_000 }

test('a decode gate lets `limit` pictures through at once, the rest in arrival order, and survives failures', T, async () => {
  const gate = new DecodeGate(2)
  const order: string[] = []
  const release = new Map<string, () => void>()
  const job = (name: string, fail = false) => gate.run(async () => {
    order.push(`start ${name}`)
    await new Promise<void>((r) => release.set(name, r))
    order.push(`end ${name}`)
    if (fail) throw new Error(`${name} failed`)
    return name
  })
  const a = job('a', true)
  const b = job('b')
  const c = job('c')
  const d = job('d')
  await new Promise((r) => setImmediate(r))
  assert.deepEqual(order, ['start a', 'start b'])
  assert.deepEqual(gate.load, { running: 2, waiting: 2 })
  release.get('a')!()
  await assert.rejects(a, /a failed/)
  await new Promise((r) => setImmediate(r))
  assert.deepEqual(order.slice(2), ['end a', 'start c'], 'the failed one freed its place for the next in line')
  release.get('b')!()
  assert.equal(await b, 'b')
  await new Promise((r) => setImmediate(r))
  assert.equal(order.at(-1), 'start d')
  release.get('c')!()
  release.get('d')!()
  assert.deepEqual(await Promise.all([c, d]), ['c', 'd'])
  assert.deepEqual(gate.load, { running: 0, waiting: 0 })
  assert.throws(() => new DecodeGate(0), RangeError)
})
