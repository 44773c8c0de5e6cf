import { Unreachable } from './models-client.ts'
import { HttpProblem } from './models-format.ts'

// When and how long `npm run classify` waits before asking again. Pure, apart from withRetries' sleep.

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number
  baseMs: number
  capMs: number
  /** A Retry-After longer than this is cut to it (a confused proxy should not park the run for hours). */
  maxRetryAfterMs: number
}

/** 0.5, 1, 2, 4, 8, 16, 30, 30 s (each 50-100 % of that): about a minute and a half before giving up. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 9, baseMs: 500, capMs: 30_000, maxRetryAfterMs: 120_000 }

/** A non-2xx answer, with the Retry-After the coordinator sent (503, 429), if any. */
export class ApiProblem extends HttpProblem {
  constructor(status: number, code: string, detail: string, readonly retryAfter: string | null = null) {
    super(status, code, detail)
  }
}

/** The run was told to abandon what it was doing (a second Ctrl-C). */
export class Abandoned extends Error {
  constructor() {
    super('abandoned')
  }
}

/** Transient errors were retried `attempts` times and are still there. */
export class GaveUp extends Error {
  constructor(readonly last: Error, readonly attempts: number) {
    super(`${last.message} (gave up after ${attempts} tries)`)
  }
}

/** 408 timeout, 409 conflict, 429 too many requests and any 5xx may well work when asked again. */
export const isRetryableStatus = (status: number) => status === 408 || status === 409 || status === 429 || status >= 500

/** Worth another try: the coordinator was not reached, or answered with a retryable status. */
export function isTransient(err: unknown): err is Error {
  return err instanceof Unreachable || (err instanceof HttpProblem && isRetryableStatus(err.status))
}

/**
 * The wait before retry number `retry` (0 for the first retry): exponential, capped, with "equal
 * jitter" (between half and all of it) so that many clients cut off at once do not come back in step.
 */
export function backoffMs(retry: number, policy: RetryPolicy = DEFAULT_RETRY, random: () => number = Math.random): number {
  const full = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, retry))
  return Math.round(full / 2 + random() * (full / 2))
}

/** A Retry-After header (seconds, or an HTTP date) as milliseconds from `now`; null when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now: number = Date.now()): number | null {
  if (header === null || header === undefined || header.trim() === '') return null
  const s = header.trim()
  if (/^[0-9]+(\.[0-9]+)?$/.test(s)) return Math.round(Number(s) * 1000)
  const at = Date.parse(s)
  return Number.isNaN(at) ? null : Math.max(0, at - now)
}

/** How long to wait after `err` before retry number `retry`: the server's Retry-After if it sent one (plus a little jitter), else the back-off. */
export function delayAfter(err: unknown, retry: number, policy: RetryPolicy = DEFAULT_RETRY, random: () => number = Math.random, now: number = Date.now()): number {
  const asked = err instanceof ApiProblem ? retryAfterMs(err.retryAfter, now) : null
  if (asked === null) return backoffMs(retry, policy, random)
  return Math.min(policy.maxRetryAfterMs, asked) + Math.round(random() * 250)
}

/** setTimeout as a promise that rejects with Abandoned as soon as `signal` aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((done, fail) => {
    if (signal?.aborted) return fail(new Abandoned())
    const onAbort = () => {
      clearTimeout(timer)
      fail(new Abandoned())
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      done()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

export interface RetryOptions {
  policy?: RetryPolicy
  signal?: AbortSignal
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  random?: () => number
  /** Told before each wait: what went wrong, the try that failed (1-based), how long until the next. */
  onRetry?: (err: Error, attempt: number, delayMs: number) => void
}

/** Runs `fn` until it succeeds, fails for good (thrown as is) or the tries run out (GaveUp). */
export async function withRetries<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const policy = opts.policy ?? DEFAULT_RETRY
  const sleep = opts.sleep ?? abortableSleep
  for (let attempt = 1; ; attempt++) {
    if (opts.signal?.aborted) throw new Abandoned()
    try {
      return await fn()
    } catch (err) {
      if (!isTransient(err) || opts.signal?.aborted) throw opts.signal?.aborted ? new Abandoned() : err
      if (attempt >= policy.attempts) throw new GaveUp(err, attempt)
      const wait = delayAfter(err, attempt - 1, policy, opts.random)
      opts.onRetry?.(err, attempt, wait)
      await sleep(wait, opts.signal)
    }
  }
}
