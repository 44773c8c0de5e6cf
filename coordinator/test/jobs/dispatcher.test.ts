import assert from 'node:assert/strict'
import { test } from 'node:test'
import { planAssignments } from '../../src/jobs/dispatcher.ts'

const of = (model: string, ...ids: string[]) => ids.map((id) => ({ id, model }))

test('jobs go to the worker with the most free slots, in the given order', () => {
  const plan = planAssignments([{ workerId: 'a', free: 1 }, { workerId: 'b', free: 3 }], of('m', 'j1', 'j2', 'j3', 'j4'))
  assert.deepEqual(Object.fromEntries(plan), { b: ['j1', 'j2', 'j4'], a: ['j3'] })
})

test('never more jobs than free slots; nothing planned without slots', () => {
  const plan = planAssignments([{ workerId: 'a', free: 2 }], of('m', 'j1', 'j2', 'j3'))
  assert.deepEqual(Object.fromEntries(plan), { a: ['j1', 'j2'] })
  assert.equal(planAssignments([], of('m', 'j1')).size, 0)
  assert.equal(planAssignments([{ workerId: 'a', free: 0 }], of('m', 'j1')).size, 0)
})

test('a job goes to a worker holding its model version, even one with fewer free slots', () => {
  const free = [{ workerId: 'a', free: 3, warm: new Set(['A']) }, { workerId: 'b', free: 3, warm: new Set(['B']) }]
  const plan = planAssignments(free, [...of('B', 'b1'), ...of('A', 'a1', 'a2'), ...of('B', 'b2')])
  assert.deepEqual(Object.fromEntries(plan), { b: ['b1', 'b2'], a: ['a1', 'a2'] })
})

test('a version no page holds is spread like any burst (each page loads it once)', () => {
  const free = [{ workerId: 'a', free: 2, warm: new Set(['A']) }, { workerId: 'b', free: 2, warm: new Set(['A']) }]
  const plan = planAssignments(free, of('C', 'c1', 'c2', 'c3'))
  assert.deepEqual(Object.fromEntries(plan), { a: ['c1', 'c3'], b: ['c2'] })
})

test('with the warm workers full, a job still goes out (to a page that will load its version)', () => {
  const free = [{ workerId: 'a', free: 1, warm: new Set(['A']) }, { workerId: 'b', free: 2, warm: new Set<string>() }]
  const plan = planAssignments(free, of('A', 'a1', 'a2'))
  assert.deepEqual(Object.fromEntries(plan), { a: ['a1'], b: ['a2'] })
})
