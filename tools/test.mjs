// `npm test`: install (as root) the system packages the tests need, build the worker page (the end-to-end tests load it in Chromium), then run every
// *.test.ts with node's test runner, whose closing `# pass` / `# fail` lines CI reads.
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { ROOT, buildWorkerPage, ensureDependencies, ensureTestSystem } from './bootstrap.mjs'

function testFiles(dir) {
  let out = []
  let entries = []
  try {
    entries = readdirSync(dir)
  } catch {
    return out
  }
  for (const e of entries) {
    const p = join(dir, e)
    if (e === 'node_modules') continue
    if (statSync(p).isDirectory()) out = out.concat(testFiles(p))
    else if (e.endsWith('.test.ts')) out.push(relative(ROOT, p))
  }
  return out
}

ensureTestSystem()
ensureDependencies()
buildWorkerPage()
const filter = process.argv.slice(2)
const files = ['protocol', 'coordinator', 'worker-runtime', 'evaluation', 'tools']
  .flatMap((w) => testFiles(join(ROOT, w, 'test')))
  .filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)))
  .sort()
if (files.length === 0) {
  console.error('no test files matched')
  process.exit(1)
}
// A hang must end as a named failure, not a CI job that never finishes. Node 20 applies --test-timeout to each
// test *file* (its child processes ignore the flag), so the default leaves room for the slowest file (the
// end-to-end one waits up to 60 s for Chromium and 120 s for results) while still bounding a hang.
const timeoutMs = Number(process.env.TEST_TIMEOUT_MS ?? 300_000)
if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
  console.error(`TEST_TIMEOUT_MS must be a positive number of milliseconds, not ${JSON.stringify(process.env.TEST_TIMEOUT_MS)}`)
  process.exit(1)
}
const r = spawnSync(process.execPath, ['--import', 'tsx', ...(process.env.TEST_IMPORT ? ['--import', process.env.TEST_IMPORT] : []), '--test', `--test-timeout=${timeoutMs}`, '--test-reporter=tap', ...files], { cwd: ROOT, stdio: 'inherit' })
process.exit(r.status ?? 1)
