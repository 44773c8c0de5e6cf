// BullMQ measured on this machine's Redis, in the same run as our own bench, as the reference our job
// queue is compared with: a figure taken on the same hardware at the same moment is a fairer yardstick
// than one copied from a README. Every function bounds its own time and closes everything it opened,
// so a missing or stalled Redis costs the bench a line of output, not a hang.
import { randomBytes } from 'node:crypto'
import { connect as tcpConnect, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { Queue, Worker, type Job, type RedisOptions } from 'bullmq'

export interface BullmqThroughput { jobs: number; jobsPerSecond: number; addBulkPerSecond: number }
export interface LatencyAtRate { targetPerSecond: number; achievedPerSecond: number; p50Ms: number; p99Ms: number; samples: number }

export const DEFAULT_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const TIMEOUT_MS = 120_000
// addBulk is one MULTI per call: 1000 jobs keeps each round trip large without one huge reply.
const ADD_CHUNK = 1_000
// The pacer wakes this often and adds every job that has come due, so high rates go out as small bursts.
const TICK_MS = 5
// Closing steps get their own short bound: they run after a failure too, when Redis may be gone.
const CLOSE_MS = 5_000

interface LatencyData { t: number; warm: boolean }

/** Wall-clock milliseconds with sub-ms precision; add and start are stamped in this same process. */
const now = () => performance.timeOrigin + performance.now()

/** `work`, or a rejection after `ms`; `what` is a function so the message can say what went wrong meanwhile. */
function bounded<T>(work: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what()}: no result after ${ms / 1000} s`)), ms)
  })
  return Promise.race([work, expired]).finally(() => clearTimeout(timer))
}

/** Nearest-rank percentile of already sorted values. */
function rank(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

/**
 * One throwaway queue (and at most one worker) on a fresh name, so runs never see each other's jobs.
 * BullMQ opens its own connections from these options and so also closes them in close().
 */
class Bench {
  readonly name = `hivesight-bench-${randomBytes(6).toString('hex')}`
  readonly queue: Queue
  private closeWorker: (() => Promise<void>) | undefined
  // The first connection or processing error, so a timeout can say what went wrong.
  private error: Error | undefined
  // Rejects when any job fails: a no-op cannot fail, so the figures would mean nothing; run() stops at once.
  private failJob: (e: Error) => void = () => undefined
  private readonly jobFailed = new Promise<never>((_, reject) => (this.failJob = reject))

  constructor(private readonly redisUrl: string) {
    this.queue = new Queue(this.name, {
      connection: this.connection(),
      // Completed and failed jobs are deleted at once: the bench must not fill Redis.
      defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
    })
    // Without a listener an 'error' event would throw; keep it for the timeout message instead.
    this.queue.on('error', (e) => (this.error ??= e))
    // Nobody may be waiting on it when it rejects (e.g. after run() has returned).
    this.jobFailed.catch(() => undefined)
  }

  private connection(): RedisOptions {
    // BullMQ requires maxRetriesPerRequest: null for a worker's blocking connection; the queue uses
    // the same so both behave alike, and the bounds below stop a command waiting on a dead Redis.
    return { url: this.redisUrl, maxRetriesPerRequest: null, connectTimeout: 2_000 }
  }

  /** A worker that does not poll until start(), so setup is not counted in the timings. */
  async openWorker<T>(concurrency: number, processor: (job: Job<T>) => Promise<void>): Promise<Worker<T>> {
    const worker = new Worker<T>(this.name, processor, { connection: this.connection(), concurrency, autorun: false })
    this.closeWorker = () => bounded(worker.close(), CLOSE_MS, () => 'worker.close').catch(() => worker.disconnect())
    worker.on('error', (e) => (this.error ??= e))
    worker.on('failed', (job, e) => this.failJob(new Error(`BullMQ job ${job?.id ?? '?'} failed: ${e.message}`)))
    await worker.waitUntilReady()
    return worker
  }

  start<T>(worker: Worker<T>): void {
    worker.run().catch((e: unknown) => (this.error ??= e instanceof Error ? e : new Error(String(e))))
  }

  /** Runs `body` with a time limit and always tears the queue down, also when `body` failed or timed out. */
  async run<T>(timeoutMs: number, body: () => Promise<T>): Promise<T> {
    const work = body()
    // If the limit wins, `work` may still reject later, once close() has cut its connections.
    work.catch(() => undefined)
    try {
      const what = () => `BullMQ bench on ${this.redisUrl}${this.error ? ` (${this.error.message})` : ''}`
      return await bounded(Promise.race([work, this.jobFailed]), timeoutMs, what)
    } finally {
      await this.close()
    }
  }

  private async close(): Promise<void> {
    await this.closeWorker?.()
    // obliterate removes every key of the queue (meta, events stream, ids) that removeOnComplete leaves.
    await bounded(this.queue.obliterate({ force: true }), CLOSE_MS, () => 'queue.obliterate').catch(() => undefined)
    await bounded(this.queue.close(), CLOSE_MS, () => 'queue.close').catch(() => this.queue.disconnect())
  }
}

/** addBulk `jobs` no-op jobs, then time a worker of `concurrency` from start until all have completed. */
export async function bullmqThroughput(opts: {
  jobs: number
  concurrency: number
  redisUrl?: string
  onProgress?: (done: number) => void
}): Promise<BullmqThroughput> {
  const { jobs, concurrency, onProgress } = opts
  if (!(Number.isInteger(jobs) && jobs > 0)) throw new RangeError(`jobs must be a positive integer, not ${jobs}`)
  const bench = new Bench(opts.redisUrl ?? DEFAULT_REDIS_URL)
  return bench.run(TIMEOUT_MS, async () => {
    // Connecting and loading the Lua scripts is setup, not part of the add rate.
    await bench.queue.waitUntilReady()
    const added = performance.now()
    for (let i = 0; i < jobs; i += ADD_CHUNK) {
      const n = Math.min(ADD_CHUNK, jobs - i)
      await bench.queue.addBulk(Array.from({ length: n }, () => ({ name: 'noop', data: {} })))
    }
    const addSeconds = (performance.now() - added) / 1000

    let done = 0
    let finish: () => void = () => undefined
    const finished = new Promise<void>((resolve) => (finish = resolve))
    const worker = await bench.openWorker<unknown>(concurrency, async () => undefined)
    worker.on('completed', () => {
      done++
      onProgress?.(done)
      if (done === jobs) finish()
    })
    const started = performance.now()
    bench.start(worker)
    await finished
    const seconds = (performance.now() - started) / 1000
    return { jobs, jobsPerSecond: jobs / seconds, addBulkPerSecond: jobs / addSeconds }
  })
}

/**
 * Adds jobs one at a time at `perSecond` for `seconds` (after a short warm-up at the same rate) and
 * reports the delay from each add to the start of its processor.
 */
export async function bullmqLatencyAtRate(opts: {
  perSecond: number
  seconds: number
  concurrency: number
  redisUrl?: string
}): Promise<LatencyAtRate> {
  const { perSecond, seconds, concurrency } = opts
  if (!(perSecond > 0 && seconds > 0)) throw new RangeError(`perSecond and seconds must be positive, not ${perSecond} and ${seconds}`)
  const total = Math.max(1, Math.round(perSecond * seconds))
  // Half a second, at least 50 jobs: enough to open the blocking connection and warm the JIT.
  const warm = Math.max(50, Math.round(perSecond / 2))
  const bench = new Bench(opts.redisUrl ?? DEFAULT_REDIS_URL)
  return bench.run(Math.max(TIMEOUT_MS, 1000 * seconds + 60_000), async () => {
    await bench.queue.waitUntilReady()
    const lags: number[] = []
    let warmed = 0
    let lastStart = 0
    let phaseDone: () => void = () => undefined
    const worker = await bench.openWorker<LatencyData>(concurrency, async (job) => {
      const started = now()
      if (job.data.warm) {
        if (++warmed === warm) phaseDone()
        return
      }
      lags.push(started - job.data.t)
      lastStart = started
      if (lags.length === total) phaseDone()
    })
    bench.start(worker)

    const phase = async (count: number, isWarm: boolean): Promise<number> => {
      const all = new Promise<void>((resolve) => (phaseDone = resolve))
      const firstAdd = await paced(count, perSecond, () => bench.queue.add('probe', { t: now(), warm: isWarm }))
      await all
      return firstAdd
    }
    await phase(warm, true)
    const firstAdd = await phase(total, false)

    lags.sort((a, b) => a - b)
    // From the first add to the last processor start: the rate the queue actually carried.
    const span = (lastStart - firstAdd) / 1000
    return {
      targetPerSecond: perSecond,
      achievedPerSecond: total > 1 && span > 0 ? (total - 1) / span : NaN,
      p50Ms: rank(lags, 50),
      p99Ms: rank(lags, 99),
      samples: lags.length,
    }
  })
}

/**
 * Calls `send` `count` times, the i-th due at i / perSecond after the start: scheduled by absolute time,
 * so a late tick catches up instead of lowering the rate. Resolves with the start time (ms, as now())
 * once every send has resolved; rejects on the first failed send.
 */
function paced(count: number, perSecond: number, send: () => Promise<unknown>): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = now()
    let sent = 0
    let settled = 0
    let failed = false
    const tick = () => {
      const due = Math.min(count, Math.floor(((now() - start) * perSecond) / 1000) + 1)
      for (; sent < due; sent++) {
        send().then(
          () => {
            if (++settled === count && !failed) resolve(start)
          },
          (e: unknown) => {
            failed = true
            clearInterval(timer)
            reject(e instanceof Error ? e : new Error(String(e)))
          },
        )
      }
      if (sent === count) clearInterval(timer)
    }
    const timer = setInterval(tick, TICK_MS)
    tick()
  })
}

/**
 * True when a Redis answers PING at `redisUrl` within `timeoutMs` (AUTH first if the URL has a
 * password). Plain sockets, not BullMQ: its connections retry forever, which is right for a worker but
 * not for a yes/no question.
 */
export function redisReachable(redisUrl: string = DEFAULT_REDIS_URL, timeoutMs = 1_000): Promise<boolean> {
  let url: URL
  try {
    url = new URL(redisUrl)
  } catch {
    return Promise.resolve(false)
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1'
  const port = Number(url.port || 6379)
  const password = decodeURIComponent(url.password)
  const username = decodeURIComponent(url.username)
  const command = (...args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`
  const auth = password ? (username ? command('AUTH', username, password) : command('AUTH', password)) : ''
  const replies = auth ? 2 : 1

  return new Promise((resolve) => {
    const socket: Socket =
      url.protocol === 'rediss:' ? tlsConnect({ host, port, servername: host }) : tcpConnect({ host, port })
    let received = ''
    const done = (ok: boolean) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(ok)
    }
    const timer = setTimeout(() => done(false), timeoutMs)
    socket.once(url.protocol === 'rediss:' ? 'secureConnect' : 'connect', () => socket.write(auth + command('PING')))
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8')
      const lines = received.split('\r\n').filter((l) => l !== '')
      if (lines.length < replies) return
      done((!auth || lines[0] === '+OK') && lines[replies - 1] === '+PONG')
    })
    socket.on('error', () => done(false))
    socket.on('close', () => done(false))
  })
}
