import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import type { ModelVersionView, ModelView } from '@hivesight/protocol'
import { DEFAULT_URL, DEFAULT_WAIT_SECONDS, parseModelsArgs, UsageError } from '../../src/cli/models-args.ts'
import { MODEL_FILE_FIELD, modelForm, readModelDir, Unreachable, waitForVersion } from '../../src/cli/models-client.ts'
import { formatHttpProblem, formatModelList, formatOutcome, formatProblems, HttpProblem, mb, table, unreachableMessage } from '../../src/cli/models-format.ts'

// Pure pieces of `npm run models`: no coordinator is started. Each test is bounded so a hang names itself.
const T = { timeout: 5_000 }

function version(over: Partial<ModelVersionView> = {}): ModelVersionView {
  return {
    id: 'a'.repeat(64), version: 1, state: 'ready', failureReason: null, format: 'layers', classes: 3, inputSize: 224, bytes: 2_500_000,
    createdAt: Date.UTC(2025, 0, 2, 3, 4), readyAt: Date.UTC(2025, 0, 2, 3, 4, 7), smoke: { loadMs: 412.4, inferMs: 31.6, worker: 'tab-1' },
    warmOn: ['w1', 'w2'], imagesPerSecond: 12.345, agreement: [], ...over,
  }
}

const usageError = (argv: string[], match: RegExp) => assert.throws(() => parseModelsArgs(argv), (e: unknown) => e instanceof UsageError && match.test(e.message))

test('add: name, dir, defaults; --label, --wait and --timeout', T, () => {
  assert.deepEqual(parseModelsArgs(['add', 'flowers', './tm-export']), {
    command: { kind: 'add', name: 'flowers', dir: './tm-export', label: null, wait: false, timeoutSeconds: DEFAULT_WAIT_SECONDS }, url: DEFAULT_URL, key: null,
  })
  const inv = parseModelsArgs(['add', 'flowers', 'd', '--label', 'canary', '--wait', '--timeout', '30'])
  assert.deepEqual(inv.command, { kind: 'add', name: 'flowers', dir: 'd', label: 'canary', wait: true, timeoutSeconds: 30 })
})

test('add refuses what would fail on the server or be silently ignored', T, () => {
  usageError(['add', 'bad/name', 'd'], /not a model name/)
  usageError(['add', 'flowers'], /DIR/)
  usageError(['add', 'flowers', 'd', 'extra'], /too many arguments: extra/)
  usageError(['add', 'flowers', 'd', '--label', 'Default'], /not a label/)
  usageError(['add', 'flowers', 'd', '--timeout', '30'], /--timeout goes with --wait/)
  usageError(['add', 'flowers', 'd', '--wait', '--timeout', '1.5'], /whole number/)
  usageError(['add', 'flowers', 'd', '--percent', '5'], /--percent is for label only/)
  usageError(['add', 'flowers', 'd', '--bogus'], /bogus/)
})

test('list, remove, help and unknown commands', T, () => {
  assert.deepEqual(parseModelsArgs(['list']).command, { kind: 'list' })
  assert.deepEqual(parseModelsArgs(['remove', 'flowers', 'v3']).command, { kind: 'remove', name: 'flowers', version: 3 })
  assert.deepEqual(parseModelsArgs(['remove', 'flowers', '3']).command, { kind: 'remove', name: 'flowers', version: 3 })
  assert.deepEqual(parseModelsArgs(['--help']).command, { kind: 'help' })
  assert.deepEqual(parseModelsArgs(['list', '-h']).command, { kind: 'help' })
  usageError(['remove', 'flowers', '0'], /version number/)
  usageError(['remove', 'flowers', 'latest'], /version number/)
  usageError(['list', '--wait'], /--wait is for add only/)
  usageError(['list', 'flowers'], /too many arguments/)
  usageError([], /a command is needed/)
  usageError(['lst'], /unknown command "lst"/)
})

test('label with and without a canary', T, () => {
  assert.deepEqual(parseModelsArgs(['label', 'flowers', 'default', '2']).command, { kind: 'label', name: 'flowers', label: 'default', version: 2, canary: null })
  assert.deepEqual(parseModelsArgs(['label', 'flowers', 'default', '2', '--canary', 'v3', '--percent', '12.5']).command, {
    kind: 'label', name: 'flowers', label: 'default', version: 2, canary: { version: 3, percent: 12.5 },
  })
  usageError(['label', 'flowers', 'default', '2', '--canary', '3'], /go together/)
  usageError(['label', 'flowers', 'default', '2', '--percent', '3'], /go together/)
  usageError(['label', 'flowers', 'default', '2', '--canary', '3', '--percent', '101'], /0 to 100/)
  usageError(['label', 'flowers', 'default', '2', '--canary', '3', '--percent', ''], /0 to 100/)
  usageError(['label', 'flowers', 'default', '2', '--canary', '2', '--percent', '5'], /own version/)
  usageError(['label', 'flowers', 'default'], /VERSION is missing/)
})

test('--url and --key win over the environment; the URL is checked and tidied', T, () => {
  const env = { HIVESIGHT_URL: 'https://hive.example/base/', HIVESIGHT_API_KEY: ' envkey ' }
  assert.deepEqual({ ...parseModelsArgs(['list'], env), command: undefined }, { command: undefined, url: 'https://hive.example/base', key: 'envkey' })
  const flags = parseModelsArgs(['list', '--url', 'http://10.0.0.5:9000', '--key', 'flagkey'], env)
  assert.equal(flags.url, 'http://10.0.0.5:9000')
  assert.equal(flags.key, 'flagkey')
  assert.equal(parseModelsArgs(['list'], { HIVESIGHT_API_KEY: '  ' }).key, null, 'a blank key is open mode, not "Bearer  "')
  usageError(['list', '--url', 'ftp://x'], /http/)
  usageError(['list', '--url', 'not a url'], /not a URL/)
  usageError(['list', '--url', 'http://x/?key=secret'], /no query string/)
})

test('sizes in MB, a tiny model not as 0.0', T, () => {
  assert.deepEqual([mb(14_023_000), mb(60_000), mb(48), mb(0)], ['14.0 MB', '0.1 MB', '<0.1 MB', '0.0 MB'])
})

test('table: columns padded to the widest cell, numbers right-aligned, no trailing spaces', T, () => {
  assert.equal(table(['A', 'N', 'Z'], [['long', '5', ''], ['x', '123', '']], new Set([1])), 'A       N  Z\nlong    5\nx     123')
})

test('list: a row per version, newest first, labels and canaries, failure reasons in words', T, () => {
  const models: ModelView[] = [
    { name: 'zebra', labels: [], versions: [] },
    {
      name: 'flowers',
      labels: [{ label: 'default', version: 1, canary: { version: 2, percent: 10 } }, { label: 'beta', version: 2, canary: null }],
      versions: [version(), version({ version: 2, warmOn: [], smoke: null }), version({ version: 3, state: 'failed', failureReason: 'SMOKE_TIMEOUT', readyAt: null, smoke: null, warmOn: [] })],
    },
  ]
  const lines = formatModelList(models).split('\n')
  assert.match(lines[0]!, /^MODEL\s+VERSION\s+STATE\s+LABELS\s+FORMAT\s+CLASSES\s+INPUT\s+SIZE\s+CREATED\s+READY AFTER\s+LOAD\/INFER\s+WARM\s+IMG\/S$/)
  assert.match(lines[1]!, /^flowers\s+v3\s+failed\s/)
  assert.equal(lines[2], '    └ failed: smoke timeout')
  assert.match(lines[3]!, /^flowers\s+v2\s+ready\s+default:canary 10%,beta\s/)
  assert.match(lines[4]!, /^flowers\s+v1\s+ready\s+default\s+layers\s+3\s+224×224\s+2\.5 MB\s+2025-01-02 03:04\s+7 s\s+412 ms\/32 ms\s+2\s+12\.3$/)
  assert.match(lines[5]!, /^zebra\s+–\s+no versions$/)
  const cols = lines.filter((l) => !l.startsWith('    └')).map((l) => l.indexOf('STATE') >= 0 ? l.indexOf('STATE') : l.search(/(ready|failed|no versions)/))
  assert.equal(new Set(cols).size, 1, 'the STATE column lines up across rows')
  assert.match(formatModelList([]), /no models yet/)
})

test('a refused upload prints one line per file and rule; a refused key says what to do', T, () => {
  const refused = new HttpProblem(422, 'MODEL_INVALID', 'the model files were refused', [
    { file: 'weights.bin', rule: 'shard-size', message: 'model.json says 4 096 bytes, the file has 12' },
    { file: '', rule: 'manifest', message: 'neither metadata.json nor hivesight.json' },
  ])
  assert.deepEqual(formatProblems(refused.problems), ['  weights.bin — shard-size: model.json says 4 096 bytes, the file has 12', '  (upload) — manifest: neither metadata.json nor hivesight.json'])
  assert.equal(formatHttpProblem(refused).split('\n').length, 3)
  assert.match(formatHttpProblem(refused), /^refused \(422 MODEL_INVALID\):\n {2}weights\.bin — shard-size/)
  assert.match(formatHttpProblem(new HttpProblem(401, 'API_KEY_REQUIRED', 'an API key is needed')), /--key or HIVESIGHT_API_KEY/)
  assert.match(formatHttpProblem(new HttpProblem(403, 'ADMIN_KEY_REQUIRED', 'uploading a model needs an admin key')), /--admin/)
  assert.equal(formatHttpProblem(new HttpProblem(409, 'MODEL_IN_USE', 'label default points at v1')), 'label default points at v1 (409 MODEL_IN_USE)')
})

test('the outcome of a wait, ready or failed', T, () => {
  assert.equal(formatOutcome('flowers', version({ version: 4 }), { label: 'default', version: 4, canary: null }),
    'flowers v4 is ready after 7 s (smoke test on tab-1: load 412 ms, infer 32 ms); default → v4')
  assert.equal(formatOutcome('flowers', version({ state: 'failed', failureReason: 'tfjs: weights for layer dense_1 are missing' })),
    'flowers v1 failed: tfjs: weights for layer dense_1 are missing')
  assert.equal(formatOutcome('flowers', version({ state: 'failed', failureReason: null })), 'flowers v1 failed: no reason given')
})

test('an unreachable coordinator in words; other errors are left alone', T, () => {
  const refused = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8080'), { code: 'ECONNREFUSED' }) })
  assert.equal(unreachableMessage(refused, 'http://127.0.0.1:8080'), 'cannot reach the coordinator at http://127.0.0.1:8080 (connection refused): is it running? Point --url or HIVESIGHT_URL at it')
  const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError')
  assert.match(unreachableMessage(timeout, 'http://h') ?? '', /did not answer in time/)
  assert.equal(unreachableMessage(new TypeError('x is not a function'), 'http://h'), null)
  assert.equal(unreachableMessage(new Error('boom'), 'http://h'), null)
})

test('the form: name and label first, then each file under one part name with its own file name', T, () => {
  const form = modelForm('flowers', [{ name: 'model.json', bytes: new Uint8Array([123, 125]) }, { name: 'weights.bin', bytes: new Uint8Array(8) }], 'default')
  const entries = [...form.entries()]
  assert.deepEqual(entries.map(([k]) => k), ['name', 'label', MODEL_FILE_FIELD, MODEL_FILE_FIELD])
  assert.equal(entries[0]![1], 'flowers')
  const [json, bin] = [entries[2]![1], entries[3]![1]]
  assert.ok(json instanceof File && bin instanceof File)
  assert.deepEqual([json.name, json.type, json.size], ['model.json', 'application/json', 2])
  assert.deepEqual([bin.name, bin.type, bin.size], ['weights.bin', 'application/octet-stream', 8])
  assert.deepEqual([...modelForm('flowers', [], null).keys()], ['name'])
})

test('the directory: model.json first, dot files left out, no model.json is an error before any upload', T, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hivesight-models-'))
  try {
    for (const f of ['weights.bin', 'metadata.json', '.DS_Store']) await writeFile(join(dir, f), 'x')
    await assert.rejects(readModelDir(dir), /has no model\.json \(found: weights\.bin, metadata\.json|has no model\.json \(found: metadata\.json, weights\.bin/)
    await writeFile(join(dir, 'model.json'), '{}')
    assert.deepEqual((await readModelDir(dir)).map((f) => f.name), ['model.json', 'metadata.json', 'weights.bin'])
    await assert.rejects(readModelDir(join(dir, 'nope')), /no directory/)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('waiting: polls through validating and a lost connection, stops at ready; gives up at the deadline', T, async () => {
  let clock = 0
  const fake = { now: () => clock, sleep: async (ms: number) => { clock += ms } }
  const answers: (ModelView | Error)[] = [
    { name: 'm', labels: [], versions: [version({ version: 2, state: 'validating' })] },
    new Unreachable('cannot reach the coordinator'),
    new HttpProblem(503, 'MODEL_NOT_READY', 'busy'),
    { name: 'm', labels: [], versions: [version({ version: 2 })] },
  ]
  const notes: string[] = []
  const done = await waitForVersion(async () => {
    const a = answers.shift()!
    if (a instanceof Error) throw a
    return a
  }, 2, { timeoutMs: 60_000, intervalMs: 1000, onProgress: (_e, n) => notes.push(n), ...fake })
  assert.equal(done?.version.state, 'ready')
  assert.deepEqual(notes.map((n) => n.replace(/;.*/, '')), ['', 'cannot reach the coordinator', 'busy (503 MODEL_NOT_READY)'])

  clock = 0
  const stuck = await waitForVersion(async () => ({ name: 'm', labels: [], versions: [version({ version: 2, state: 'validating' })] }), 2,
    { timeoutMs: 5_000, intervalMs: 1000, onProgress: () => {}, ...fake })
  assert.equal(stuck, null)
  assert.equal(clock, 5_000)

  await assert.rejects(waitForVersion(async () => ({ name: 'm', labels: [], versions: [] }), 2, { timeoutMs: 5_000, intervalMs: 1000, onProgress: () => {}, ...fake }), /no longer listed/)
  await assert.rejects(waitForVersion(async () => { throw new HttpProblem(401, 'API_KEY_REQUIRED', 'no key') }, 2, { timeoutMs: 5_000, intervalMs: 1000, onProgress: () => {}, ...fake }), HttpProblem)
})
