import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CLASSIFY_USAGE, DEFAULT_CONCURRENCY, DEFAULT_OUT, DEFAULT_URL, parseClassifyArgs, UsageError, type ClassifyInvocation } from '../../src/cli/classify-args.ts'

// Pure argument parsing of `npm run classify`: no files, no coordinator. Each test is bounded so a hang names itself.
const T = { timeout: 5_000 }

const usageError = (argv: string[], match: RegExp, env = {}) =>
  assert.throws(() => parseClassifyArgs(argv, env, '/home/u'), (e: unknown) => e instanceof UsageError && match.test(e.message))

function run(inv: ClassifyInvocation) {
  assert.equal(inv.kind, 'run')
  if (inv.kind !== 'run') throw new Error('unreachable')
  return inv
}

test('paths and defaults: made absolute against the directory the command was run from', T, () => {
  assert.deepEqual(parseClassifyArgs(['photos', '/abs/b.jpg'], {}, '/home/u'), {
    kind: 'run', paths: ['/home/u/photos', '/abs/b.jpg'], model: null, out: { path: `/home/u/${DEFAULT_OUT}`, format: 'csv' },
    concurrency: DEFAULT_CONCURRENCY, url: DEFAULT_URL, key: null,
  })
})

test('npm runs scripts in the repository root: INIT_CWD (where the user was) wins over the process cwd', T, () => {
  const inv = run(parseClassifyArgs(['photos', '--out', 'r.jsonl'], { INIT_CWD: '/home/u/work' }, '/repo'))
  assert.deepEqual(inv.paths, ['/home/u/work/photos'])
  assert.equal(inv.out.path, '/home/u/work/r.jsonl')
  assert.equal(run(parseClassifyArgs(['p'], { INIT_CWD: 'relative' }, '/repo')).paths[0], '/repo/p', 'a relative INIT_CWD is ignored')
})

test('--out picks the format from its extension', T, () => {
  assert.deepEqual(run(parseClassifyArgs(['p', '--out', 'x.CSV'], {}, '/w')).out, { path: '/w/x.CSV', format: 'csv' })
  assert.deepEqual(run(parseClassifyArgs(['p', '--out', 'x.jsonl'], {}, '/w')).out, { path: '/w/x.jsonl', format: 'jsonl' })
  assert.deepEqual(run(parseClassifyArgs(['p', '--out', '/tmp/x.ndjson'], {}, '/w')).out, { path: '/tmp/x.ndjson', format: 'jsonl' })
  usageError(['p', '--out', 'x.json'], /must end in \.csv or \.jsonl/)
  usageError(['p', '--out', 'results'], /must end in \.csv or \.jsonl/)
  usageError(['p', '--out', ''], /needs a file name/)
})

test('--model: NAME, NAME@VERSION, NAME@LABEL; anything else is refused here, not once per image', T, () => {
  for (const m of ['mobilenet_v2_1.0_224', 'flowers@3', 'flowers@default', 'a-b.c_d@canary-2']) {
    assert.equal(run(parseClassifyArgs(['p', '--model', m])).model, m)
  }
  usageError(['p', '--model', 'bad/name'], /not a model name/)
  usageError(['p', '--model', 'flowers@'], /after @ comes a version number/)
  usageError(['p', '--model', 'flowers@0'], /after @ comes a version number/)
  usageError(['p', '--model', 'flowers@Default'], /after @ comes/)
  usageError(['p', '--model', 'flowers@1@2'], /after @ comes/)
  usageError(['p', '--model', `${'x'.repeat(65)}`], /not a model name/)
})

test('--concurrency is a whole number from 1 to 64', T, () => {
  assert.equal(run(parseClassifyArgs(['p', '--concurrency', '1'])).concurrency, 1)
  assert.equal(run(parseClassifyArgs(['p', '--concurrency', '64'])).concurrency, 64)
  for (const bad of ['0', '65', '2.5', '-1', 'many', '']) usageError(['p', `--concurrency=${bad}`], /--concurrency must be a whole number/)
  usageError(['p', '--concurrency', '-1'], /ambiguous/) // node's parseArgs: a value with a dash goes after =
})

test('--url and --key win over HIVESIGHT_URL and HIVESIGHT_API_KEY; the URL is checked and tidied', T, () => {
  const env = { HIVESIGHT_URL: 'https://hive.example/base/', HIVESIGHT_API_KEY: ' envkey ' }
  const fromEnv = run(parseClassifyArgs(['p'], env))
  assert.equal(fromEnv.url, 'https://hive.example/base')
  assert.equal(fromEnv.key, 'envkey')
  const flags = run(parseClassifyArgs(['p', '--url', 'http://10.0.0.5:9000', '--key', 'flagkey'], env))
  assert.equal(flags.url, 'http://10.0.0.5:9000')
  assert.equal(flags.key, 'flagkey')
  assert.equal(run(parseClassifyArgs(['p'], { HIVESIGHT_API_KEY: '  ' })).key, null, 'a blank key is open mode')
  usageError(['p', '--url', 'ftp://x'], /http/)
  usageError(['p', '--url', 'http://x/?key=secret'], /no query string/)
})

test('help, and what is missing or unknown', T, () => {
  assert.deepEqual(parseClassifyArgs(['--help']), { kind: 'help' })
  assert.deepEqual(parseClassifyArgs(['p', '-h', '--url', 'not a url']), { kind: 'help' }, 'help wins over a bad option')
  usageError([], /no PATH given/)
  usageError([''], /empty PATH/)
  usageError(['p', '--bogus'], /bogus/)
  usageError(['p', '--model'], /model/)
  assert.match(CLASSIFY_USAGE, /are skipped; "failed" ones are tried again/)
  assert.match(CLASSIFY_USAGE, /130 interrupted/)
})
