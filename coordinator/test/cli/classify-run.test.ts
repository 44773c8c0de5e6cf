import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { JobView } from '@hivesight/protocol'
import type { JobsApi } from '../../src/cli/classify-client.ts'
import type { ResultRow } from '../../src/cli/classify-output.ts'
import { duration, eta, formatSummary, progressLine } from '../../src/cli/classify-progress.ts'
import { ApiProblem } from '../../src/cli/classify-retry.ts'
import { classifyAll, idempotencyKey, type RunControl, type RunOptions } from '../../src/cli/classify-run.ts'
import { Unreachable } from '../../src/cli/models-client.ts'

// The upload-and-wait loop against a fake coordinator (what the real one does is in evaluation/test/classify-cli.test.ts).
const T = { timeout: 10_000 }
const enc = new TextEncoder()

function view(id: string, status: JobView['status'], over: Partial<JobView> = {}): JobView {
  return {
    id, status, filename: null, contentType: 'image/jpeg', bytes: 1, width: 1, height: 1, priority: 0, attempts: 1, submittedAt: 0, startedAt: null,
    finishedAt: null, workerId: null, model: { name: 'm', version: 1 },
    result: status === 'succeeded' ? { predictions: [{ label: 'cat', wnid: 'n1', score: 0.9 }], model: { name: 'm', version: 1 }, decodeMs: 1, inferMs: 1 } : null,
    error: status === 'failed' ? { code: 'IMAGE_DECODE_FAILED', message: 'no' } : null, ...over,
  }
}

/** A coordinator in memory: one job per Idempotency-Key; each job succeeds on its second look. */
class FakeApi implements JobsApi {
  keys = new Map<string, string>()
  looks = new Map<string, number>()
  inFlight = 0
  maxInFlight = 0
  retried: string[] = []
  refuse = new Map<string, ApiProblem>()
  dead = new Set<string>()
  flaky = 0
  async submit(_bytes: Uint8Array, filename: string, _model: string | null, key: string) {
    if (this.flaky-- > 0) throw new Unreachable('connection refused')
    const refusal = this.refuse.get(filename)
    if (refusal) throw refusal
    const replayed = this.keys.has(key)
    if (!replayed) this.keys.set(key, `job-${filename}`)
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    return { jobId: this.keys.get(key)!, replayed }
  }
  async job(id: string) {
    await new Promise((r) => setTimeout(r, 2))
    const n = (this.looks.get(id) ?? 0) + 1
    this.looks.set(id, n)
    if (n < 2) return view(id, 'running')
    this.inFlight--
    if (this.dead.has(id)) return view(id, 'dead', { error: { code: 'WORKER_LOST', message: 'gone' } })
    return view(id, 'succeeded')
  }
  async retry(id: string) {
    this.retried.push(id)
    this.dead.delete(id)
    this.looks.set(id, 0)
    this.inFlight++
    return view(id, 'queued')
  }
}

function options(api: FakeApi, over: Partial<RunOptions> = {}): RunOptions & { rows: ResultRow[] } {
  const rows: ResultRow[] = []
  const control: RunControl = { stopping: false, abandon: new AbortController().signal }
  return {
    api, model: null, concurrency: 3, control, rows, onResult: (r) => rows.push(r),
    retry: { sleep: async () => undefined }, readBytes: async (p) => enc.encode(`bytes of ${p.split('/').pop()}`), ...over,
  }
}

const paths = Array.from({ length: 10 }, (_, i) => `/img/${i}.jpg`)

test('the Idempotency-Key: stable for the same bytes, name and model; different when any of them differs', T, () => {
  const k = idempotencyKey(enc.encode('abc'), 'a.jpg', null)
  assert.match(k, /^classify-[0-9a-f]{64}-[0-9a-f]{16}$/)
  assert.equal(idempotencyKey(enc.encode('abc'), 'a.jpg', null), k)
  assert.notEqual(idempotencyKey(enc.encode('abd'), 'a.jpg', null), k)
  assert.notEqual(idempotencyKey(enc.encode('abc'), 'b.jpg', null), k)
  assert.equal(idempotencyKey(enc.encode('abc'), 'a.jpg', 'flowers@3'), `${k}-flowers@3`)
  assert.ok(idempotencyKey(enc.encode('abc'), 'a.jpg', `${'m'.repeat(64)}@${'l'.repeat(32)}`).length <= 200, 'within the header\'s 200 characters')
})

test('every image once, in order of the paths, never more than --concurrency in flight', T, async () => {
  const api = new FakeApi()
  const opts = options(api)
  const outcome = await classifyAll(paths, opts, () => undefined)
  assert.deepEqual(outcome, { succeeded: 10, failed: 0, unfinished: 0, notStarted: 0, stoppedBy: null })
  assert.deepEqual(opts.rows.map((r) => r.path).sort(), [...paths].sort())
  assert.ok(api.maxInFlight <= 3 && api.maxInFlight >= 2, String(api.maxInFlight))
  // A second run sends the same keys: the same jobs come back, none is made.
  await classifyAll(paths, options(api), () => undefined)
  assert.equal(api.keys.size, 10)
})

test('a refused upload is a failed row with the reason; a network error is retried; an unreadable file fails alone', T, async () => {
  const api = new FakeApi()
  api.flaky = 2
  api.refuse.set('3.jpg', new ApiProblem(415, 'UNSUPPORTED_IMAGE_TYPE', '3.jpg: not an image'))
  const opts = options(api, { readBytes: async (p) => { if (p.endsWith('5.jpg')) throw new Error('EACCES: permission denied'); return enc.encode(p) } })
  const outcome = await classifyAll(paths, opts, () => undefined)
  assert.equal(outcome.succeeded, 8)
  assert.equal(outcome.failed, 2)
  assert.equal(opts.rows.find((r) => r.path === '/img/3.jpg')?.error, 'upload refused: 415 UNSUPPORTED_IMAGE_TYPE: 3.jpg: not an image')
  assert.match(opts.rows.find((r) => r.path === '/img/5.jpg')?.error ?? '', /^cannot read the file: EACCES/)
})

test('a dead job of an earlier run is queued again once (POST /retry), then waited for', T, async () => {
  const api = new FakeApi()
  const key = idempotencyKey(enc.encode('bytes of 0.jpg'), '0.jpg', null)
  api.keys.set(key, 'job-0.jpg')
  api.dead.add('job-0.jpg')
  const opts = options(api)
  await classifyAll(['/img/0.jpg'], opts, () => undefined)
  assert.deepEqual(api.retried, ['job-0.jpg'])
  assert.equal(opts.rows[0]?.status, 'succeeded')
  // Dead in this very run: written as failed (a re-run retries it).
  const fresh = new FakeApi()
  fresh.dead.add('job-1.jpg')
  const again = options(fresh)
  await classifyAll(['/img/1.jpg'], again, () => undefined)
  assert.deepEqual(fresh.retried, [])
  assert.match(again.rows[0]?.error ?? '', /^dead after 1 attempts: WORKER_LOST: gone/)
})

test('a refused key stops the run: nothing more starts, nothing is written for it', T, async () => {
  const api = new FakeApi()
  api.refuse.set('0.jpg', new ApiProblem(401, 'API_KEY_INVALID', 'unknown key'))
  let abandoned = false
  const opts = options(api, { concurrency: 1 })
  const outcome = await classifyAll(paths, opts, () => { abandoned = true })
  assert.deepEqual(outcome, { succeeded: 0, failed: 0, unfinished: 1, notStarted: 9, stoppedBy: '401 API_KEY_INVALID: unknown key' })
  assert.ok(abandoned)
  assert.deepEqual(opts.rows, [])
})

test('Ctrl-C (stopping): what is in flight finishes and is written, nothing new starts', T, async () => {
  const api = new FakeApi()
  const opts = options(api, { concurrency: 2 })
  opts.onResult = (r) => {
    opts.rows.push(r)
    opts.control.stopping = true
  }
  const outcome = await classifyAll(paths, opts, () => undefined)
  assert.equal(outcome.succeeded, 2, 'the two in flight')
  assert.equal(outcome.notStarted, 8)
  assert.equal(opts.rows.length, 2)
})

test('progress and summary lines', T, () => {
  assert.deepEqual([duration(4.4), duration(65), duration(7322), duration(Number.NaN)], ['4 s', '1 min 05 s', '2 h 02 min', '–'])
  assert.equal(eta({ done: 0, failed: 0, total: 10 }, 1000), '–')
  assert.equal(progressLine({ done: 20, failed: 1, total: 100 }, 4000), 'classify: 20/100 done, 1 failed, 5.0 images/s, ETA 16 s')
  const summary = formatSummary({ succeeded: 9, failed: 1, skipped: 5, notDone: 0, elapsedMs: 2000, out: '/r.csv', interrupted: false, stoppedBy: null, failures: [{ path: '/x.jpg', error: 'upload refused: 415' }] })
  assert.equal(summary, '9 succeeded, 1 failed, 5 skipped (already done); 5.0 images/s, 2.0 s\nresults: /r.csv\n  failed: /x.jpg: upload refused: 415\nrun the same command again to retry the failed images')
  assert.match(formatSummary({ succeeded: 3, failed: 0, skipped: 0, notDone: 7, elapsedMs: 1000, out: '/r.csv', interrupted: true, stoppedBy: null, failures: [] }), /3 succeeded, 0 failed, 0 skipped \(already done\), 7 not done;[^]*run the same command again to go on$/)
  assert.match(formatSummary({ succeeded: 0, failed: 0, skipped: 0, notDone: 22, elapsedMs: 100, out: '/r.csv', interrupted: false, stoppedBy: '404 MODEL_NOT_FOUND: no model named x', failures: [] }),
    /\nstopped: 404 MODEL_NOT_FOUND: no model named x\nrun the same command again once that is fixed to go on$/)
})
