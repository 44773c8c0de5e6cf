import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Unreachable } from '../../src/cli/models-client.ts'
import { Abandoned, abortableSleep, ApiProblem, backoffMs, DEFAULT_RETRY, delayAfter, GaveUp, isRetryableStatus, retryAfterMs, withRetries } from '../../src/cli/classify-retry.ts'

// Back-off and retries of `npm run classify`: pure, with a fake sleep and fake randomness.
const T = { timeout: 5_000 }
const policy = { attempts: 5, baseMs: 100, capMs: 1_000, maxRetryAfterMs: 10_000 }

test('back-off doubles from the base, is capped, and is jittered between half and all of it', T, () => {
  assert.deepEqual([0, 1, 2, 3, 4, 10].map((r) => backoffMs(r, policy, () => 1)), [100, 200, 400, 800, 1000, 1000])
  assert.deepEqual([0, 1, 2, 3, 4, 10].map((r) => backoffMs(r, policy, () => 0)), [50, 100, 200, 400, 500, 500])
  for (let i = 0; i < 200; i++) {
    const d = backoffMs(3, policy)
    assert.ok(d >= 400 && d <= 800, String(d))
  }
  // The default: about a minute and a half of waiting in all before giving up.
  const worst = Array.from({ length: DEFAULT_RETRY.attempts - 1 }, (_, r) => backoffMs(r, DEFAULT_RETRY, () => 1)).reduce((a, b) => a + b, 0)
  assert.ok(worst >= 60_000 && worst <= 120_000, String(worst))
})

test('Retry-After: seconds or an HTTP date; absent or unreadable is null', T, () => {
  const now = Date.UTC(2025, 0, 1, 12, 0, 0)
  assert.equal(retryAfterMs('5', now), 5000)
  assert.equal(retryAfterMs(' 0.5 ', now), 500)
  assert.equal(retryAfterMs(new Date(now + 7000).toUTCString(), now), 7000)
  assert.equal(retryAfterMs(new Date(now - 7000).toUTCString(), now), 0, 'a date gone by: at once')
  assert.equal(retryAfterMs(null, now), null)
  assert.equal(retryAfterMs('', now), null)
  assert.equal(retryAfterMs('soon', now), null)
})

test('the wait after an error: the server\'s Retry-After (capped, a little jitter) over the back-off', T, () => {
  assert.equal(delayAfter(new ApiProblem(503, 'SHUTTING_DOWN', 'x', '3'), 0, policy, () => 0), 3000)
  assert.equal(delayAfter(new ApiProblem(503, 'SHUTTING_DOWN', 'x', '3'), 0, policy, () => 1), 3250)
  assert.equal(delayAfter(new ApiProblem(429, 'RATE_LIMITED', 'x', '3600'), 0, policy, () => 0), 10_000, 'capped')
  assert.equal(delayAfter(new ApiProblem(503, 'X', 'x'), 2, policy, () => 1), 400, 'no header: the back-off')
  assert.equal(delayAfter(new Unreachable('down'), 0, policy, () => 1), 100)
})

test('which statuses are retried: 408, 409, 429 and 5xx; other 4xx are final', T, () => {
  assert.deepEqual([408, 409, 429, 500, 502, 503, 504].filter(isRetryableStatus), [408, 409, 429, 500, 502, 503, 504])
  assert.deepEqual([400, 401, 403, 404, 413, 415, 422].filter(isRetryableStatus), [])
})

test('withRetries: transient errors retried with the waits, a final one thrown at once, GaveUp when the tries run out', T, async () => {
  const waits: number[] = []
  const sleep = async (ms: number) => void waits.push(ms)
  let calls = 0
  const flaky = async () => {
    calls++
    if (calls === 1) throw new Unreachable('refused')
    if (calls === 2) throw new ApiProblem(503, 'SERVICE_UNAVAILABLE', 'db', '2')
    if (calls === 3) throw new ApiProblem(429, 'RATE_LIMITED', 'slow down')
    return 'ok'
  }
  const notes: string[] = []
  assert.equal(await withRetries(flaky, { policy, sleep, random: () => 0, onRetry: (e, a, d) => notes.push(`${a}:${d}:${e.message}`) }), 'ok')
  assert.deepEqual(waits, [50, 2000, 200])
  assert.equal(notes[0], '1:50:refused')

  calls = 0
  await assert.rejects(withRetries(async () => { calls++; throw new ApiProblem(415, 'UNSUPPORTED_IMAGE_TYPE', 'not an image') }, { policy, sleep }), ApiProblem)
  assert.equal(calls, 1, 'a 415 is not retried')

  calls = 0
  await assert.rejects(withRetries(async () => { calls++; throw new Unreachable('down') }, { policy, sleep }), (e: unknown) => e instanceof GaveUp && e.attempts === 5 && /down \(gave up after 5 tries\)/.test(e.message))
  assert.equal(calls, policy.attempts)
})

test('an abort ends the waiting at once, as Abandoned', T, async () => {
  const abort = new AbortController()
  const started = Date.now()
  const p = withRetries(async () => { throw new Unreachable('down') }, { policy: { ...policy, baseMs: 60_000, capMs: 60_000 }, signal: abort.signal })
  setTimeout(() => abort.abort(), 20)
  await assert.rejects(p, Abandoned)
  assert.ok(Date.now() - started < 2_000)
  await assert.rejects(abortableSleep(10, AbortSignal.abort()), Abandoned)
  await abortableSleep(1)
})
