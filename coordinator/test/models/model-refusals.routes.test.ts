import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp, multipart } from '../support/test-app.ts'
import { cases } from './model-refusal-cases.ts'

// Every refusal rule once through the upload route, as a client meets it: 422 MODEL_INVALID, a sentence
// in `detail`, and `problems` naming the file and the rule. (Size limits are the route test's: they need
// other settings.) Nothing refused is stored.
const onePerRule = [...new Map(cases.filter((c) => !c.limits).map((c) => [c.rule, c])).values()]

test(`each refusal rule answers 422 with its file and rule (${onePerRule.length} rules)`, { timeout: 120_000 }, async (t) => {
  const app = await buildTestApp(t)
  for (const c of onePerRule) {
    const body = multipart(c.files().map((f) => ({ field: 'files', name: f.name, type: 'application/octet-stream', data: f.bytes })), { name: 'broken' })
    const res = await app.app.inject({ method: 'POST', url: '/api/v1/models', ...body })
    assert.equal(res.statusCode, 422, `${c.rule}: ${res.body.slice(0, 300)}`)
    const problem = res.json() as { code: string; detail: string; problems: { file: string; rule: string; message: string }[] }
    assert.equal(problem.code, 'MODEL_INVALID')
    assert.ok(problem.problems.some((p) => p.rule === c.rule && p.file === c.file), `${c.rule} on ${c.file} in ${JSON.stringify(problem.problems)}`)
    assert.match(problem.detail, /^the model was refused: /)
  }
  const list = (await app.app.inject({ url: '/api/v1/models' })).json() as { models: { name: string }[] }
  assert.deepEqual(list.models.map((m) => m.name), ['mobilenet_v2_1.0_224'], 'nothing refused was stored')
})
