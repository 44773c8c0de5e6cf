import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { test } from 'node:test'
import { anchorsOf, ENV_SECTIONS, envProblems, envVarsRead, linkProblems, linkTargets, markdownFiles, sourceTexts } from '../docs/docs-check.ts'

const ROOT = resolve(import.meta.dirname, '../..')
const T = { timeout: 30_000 }
const configuration = () => readFileSync(resolve(ROOT, 'docs/configuration.md'), 'utf8')
const sections = (replace: (text: string) => string = (t) => t) => ENV_SECTIONS.map((s) => ({ heading: s.heading, texts: sourceTexts(ROOT, s.sources).map(replace) }))

test('every environment variable in docs/configuration.md is read by the code, and every one the code reads is there', T, () => {
  const problems = envProblems(configuration(), sections())
  assert.deepEqual(problems, [], problems.map((p) => `${p.variable}: ${p.problem}`).join('\n'))
})

test('a variable renamed in config.ts is caught both ways; one left out of the docs is caught too', T, () => {
  const renamed = envProblems(configuration(), sections((t) => t.replaceAll("'MAX_ATTEMPTS'", "'MAX_TRIES'")))
  assert.deepEqual(renamed.map((p) => p.variable).sort(), ['MAX_ATTEMPTS', 'MAX_TRIES'])
  const undocumented = envProblems(configuration().replace(/^\| `LEASE_MS`.*$|`MAX_ATTEMPTS`, `LEASE_MS`/m, '`MAX_ATTEMPTS`'), sections())
  assert.deepEqual(undocumented.map((p) => `${p.variable}: ${p.problem}`), ['LEASE_MS: read under "Coordinator (`coordinator/src/config.ts`)"\'s code but not documented'])
})

test('reads are found in each form the code uses', T, () => {
  const src = "int(env, 'PORT', 8080)\nprocess.env.WORKER_PAGES\nconst raw = env['HOST']\nenv.lower\nchoice(env, \"SPOT_CHECKS\", [])"
  assert.deepEqual([...envVarsRead(src)].sort(), ['HOST', 'PORT', 'SPOT_CHECKS', 'WORKER_PAGES'])
})

test('every relative link and anchor in README.md and docs/ resolves', T, () => {
  const problems = linkProblems(ROOT, markdownFiles(ROOT))
  assert.deepEqual(problems, [], problems.map((p) => `${p.file}: ${p.target} — ${p.problem}`).join('\n'))
})

test('a broken file link, a missing anchor and a link out of the repository are each caught; code is not a link', T, () => {
  const files: Record<string, string> = {
    [resolve(ROOT, 'x.md')]: '[a](docs/nope.md) [b](docs/api.md#no-such-heading) [c](../../etc/passwd) `[d](nope.md)` [e](https://example.org/x) [f](#here)\n\n# Here\n',
    [resolve(ROOT, 'docs/api.md')]: '# API\n',
  }
  const problems = linkProblems(ROOT, ['x.md'], { read: (p) => files[p] ?? readFileSync(p, 'utf8'), exists: (p) => p in files || existsSync(p) })
  assert.deepEqual(problems.map((p) => p.target), ['docs/nope.md', 'docs/api.md#no-such-heading', '../../etc/passwd'])
  assert.deepEqual(linkTargets('![img](figures/a.svg "t") [x](a.md#b)'), ['figures/a.svg', 'a.md#b'])
})

test('heading anchors follow GitHub: punctuation dropped, repeats numbered', T, () => {
  assert.deepEqual([...anchorsOf('# Job lifecycle: what is guaranteed\n## Workers\n## Workers\n```\n# not a heading\n```\n### `npm run classify`')], ['job-lifecycle-what-is-guaranteed', 'workers', 'workers-1', 'npm-run-classify'])
})
