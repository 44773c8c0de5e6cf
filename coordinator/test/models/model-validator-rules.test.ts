import assert from 'node:assert/strict'
import { test } from 'node:test'
import { validateModelUpload } from '../../src/models/model-validator.ts'
import { editModel, expectProblem, put } from './model-upload-fixtures.ts'
import { cases, LIMITS, mn, text, tm } from './model-refusal-cases.ts'

// Each rule hit by a broken variant of a valid upload (model-refusal-cases.ts), asserting the rule and the file it names.

for (const c of cases) {
  test(`${c.rule}: ${c.title}`, { timeout: 30_000 }, () => {
    const hits = expectProblem(validateModelUpload(c.files(), c.limits ?? LIMITS), c.rule, c.file)
    if (c.message) assert.ok(hits.some((p) => c.message!.test(p.message)), `${c.message} in ${JSON.stringify(hits)}`)
  })
}

test('unsupported-op: every unknown graph op is listed once, library functions included', { timeout: 30_000 }, () => {
  const files = editModel(mn(), (m) => {
    const nodes = m.modelTopology.node!
    nodes.push({ name: 'py1', op: 'PyFunc' }, { name: 'py2', op: 'PyFunc' })
    m.modelTopology.library = { function: [{ nodeDef: [{ name: 'inner', op: 'EagerPyFunc' }, { name: 'ok', op: 'Identity' }] }] }
  })
  const hits = expectProblem(validateModelUpload(files, LIMITS), 'unsupported-op', 'model.json')
  assert.equal(hits.length, 2, JSON.stringify(hits))
  assert.match(hits[0]!.message, /"PyFunc" \(2 nodes\)/)
  assert.match(hits[1]!.message, /"EagerPyFunc" \(1 node\)/)
})

test('unsupported-op: an op TensorFlow.js knows but its wasm backend has no kernel for (Einsum) is refused too', { timeout: 30_000 }, () => {
  const files = editModel(mn(), (m) => {
    m.modelTopology.node!.push({ name: 'e', op: 'Einsum' }, { name: 'f', op: 'RFFT' })
  })
  const hits = expectProblem(validateModelUpload(files, LIMITS), 'unsupported-op', 'model.json')
  assert.deepEqual(hits.map((h) => /"(\w+)"/.exec(h.message)![1]), ['Einsum', 'RFFT'])
  assert.ok(hits.every((h) => /WebAssembly backend/.test(h.message)))
  assert.ok(validateModelUpload(mn(), LIMITS).ok, 'every op of the shipped MobileNet runs on wasm')
})

test('a broken model.json still gets its manifest and files checked', { timeout: 30_000 }, () => {
  const files = put(put(tm, 'model.json', text('nope')), 'metadata.json', text('{}'))
  const r = validateModelUpload(files, LIMITS)
  assert.ok(!r.ok)
  assert.deepEqual([...new Set(r.problems.map((p) => `${p.rule} ${p.file}`))].sort(), ['bad-json model.json', 'manifest metadata.json'])
})
