import assert from 'node:assert/strict'
import { test } from 'node:test'
import { planAssignments } from '../../src/jobs/dispatcher.ts'

test('jobs go to the worker with the most free slots, in the given order', () => {
  const plan = planAssignments([{ workerId: 'a', free: 1 }, { workerId: 'b', free: 3 }], ['j1', 'j2', 'j3', 'j4'])
  assert.deepEqual(Object.fromEntries(plan), { b: ['j1', 'j2', 'j4'], a: ['j3'] })
})

test('never more jobs than free slots; nothing planned without slots', () => {
  const plan = planAssignments([{ workerId: 'a', free: 2 }], ['j1', 'j2', 'j3'])
  assert.deepEqual(Object.fromEntries(plan), { a: ['j1', 'j2'] })
  assert.equal(planAssignments([], ['j1']).size, 0)
  assert.equal(planAssignments([{ workerId: 'a', free: 0 }], ['j1']).size, 0)
})
