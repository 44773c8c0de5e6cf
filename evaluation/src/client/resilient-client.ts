import { Agent } from 'node:http'
import type { JobView, SubmitResponse } from '@hivesight/protocol'
import { httpCall } from './http-call.ts'
import { RacingAgent } from './racing-agent.ts'

/** A body ready to POST: one image as multipart/form-data. */
export interface Upload { body: Buffer; contentType: string }

export interface UploadOutcome {
  key: string
  /** Every set of job ids a 202 answered for this key (more than one distinct set = a duplicate). */
  acks: string[][]
  attempts: number
  /** performance.now() of the first send and of the 202 (null: never acknowledged). */
  startedAt: number
  ackedAt: number | null
  job?: JobView
  /** performance.now() when the final job was seen. */
  finalAt?: number
}

export interface ResilientOptions {
  /** Uploads in flight at once. */
  inflight: number
  /** First attempt's time limit; each retry gets 1.5× more, up to `maxTimeoutMs`. */
  timeoutMs: number
  /**
   * An attempt is also given up when its connection has been silent this long. A transfer that still moves
   * is left to finish: giving it up costs a new connection, whose SYN waits on 1 s timers.
   */
  idleMs: number
  maxTimeoutMs: number
  /** Gives up (the image is "not submitted") when this performance.now() passes. */
  deadline: number
  /** Also long-polls each job to its final state (`?wait=`), on connections of its own. */
  results: boolean
  /**
   * An upload not answered after this long gets a second copy on another connection, and a third after
   * twice as long (same Idempotency-Key, so the coordinator makes one job); the first 202 wins. 0: off.
   */
  hedgeMs: number
  /** A new connection not made after this long gets another racing beside it (up to 3); 0: off. */
  raceConnectMs: number
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const backoffMs = (attempt: number) => Math.min(4_000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2)
// Worth retrying: the network, a timeout, 5xx, 429 and 409 (the first copy is still being received).
const retryable = (status: number) => status >= 500 || status === 429 || status === 409 || status === 408

/**
 * The client we tell users to write: an Idempotency-Key per image, so any retry is safe; retries with
 * capped, jittered exponential back-off; a time limit per attempt that grows (a slow link must still be
 * able to finish a big upload); several uploads in flight; results by long-poll, retried too. Hedged copies
 * of a slow upload are an option, off by default: at 60 % loss, two runs here gave 0.54 and 4.03 uploads/s
 * with them and 0.80–4.33 without (the slowest upload decides; 40 per run): no clear gain for more traffic.
 */
export class ResilientClient {
  private readonly uploads: Agent
  private readonly polls: Agent
  attempts = 0

  constructor(private readonly url: string, private readonly o: ResilientOptions) {
    const agent = (maxSockets: number) => (o.raceConnectMs > 0
      ? new RacingAgent({ keepAlive: true, maxSockets, raceAfterMs: o.raceConnectMs, racers: 3 })
      : new Agent({ keepAlive: true, maxSockets }))
    // Room for the hedged copies: each upload may have up to 3 requests out.
    this.uploads = agent(o.inflight * 3)
    this.polls = agent(64)
  }

  async run(items: { key: string; upload: () => Promise<Upload> }[], onDone: (outcome: UploadOutcome) => void): Promise<UploadOutcome[]> {
    const out: UploadOutcome[] = []
    const polls: Promise<void>[] = []
    let next = 0
    await Promise.all(Array.from({ length: Math.min(this.o.inflight, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) {
        const outcome = await this.upload(items[i]!.key, await items[i]!.upload())
        out[i] = outcome
        onDone(outcome)
        if (this.o.results && outcome.acks[0]?.[0]) polls.push(this.poll(outcome, outcome.acks[0][0]))
      }
    }))
    await Promise.all(polls)
    return out
  }

  private async upload(key: string, up: Upload): Promise<UploadOutcome> {
    const outcome: UploadOutcome = { key, acks: [], attempts: 0, startedAt: performance.now(), ackedAt: null }
    const stop = new AbortController()
    // One lane retries one copy of the upload in turn; hedging adds lanes, the first 202 (or refusal) ends all.
    const lane = async (): Promise<void> => {
      for (let attempt = 0; !stop.signal.aborted && performance.now() < this.o.deadline; attempt++) {
        outcome.attempts++
        this.attempts++
        const limit = Math.min(this.o.maxTimeoutMs, this.o.timeoutMs * 1.5 ** attempt, this.o.deadline - performance.now())
        try {
          const res = await httpCall(`${this.url}/api/v1/jobs`, {
            method: 'POST', agent: this.uploads, body: up.body, totalTimeoutMs: Math.max(1, limit), idleTimeoutMs: this.o.idleMs, signal: stop.signal,
            headers: { 'content-type': up.contentType, 'content-length': up.body.length, 'idempotency-key': key },
          })
          if (res.status === 202) {
            outcome.acks.push((JSON.parse(res.text) as SubmitResponse).jobs.map((j) => j.id))
            outcome.ackedAt ??= performance.now()
            stop.abort()
            return
          }
          if (!retryable(res.status)) return stop.abort()
          const after = Number(res.headers['retry-after'])
          if (after > 0) await sleep(Math.min(after * 1000, 5_000))
        } catch { /* network error, timeout or aborted: retry (unless stopped) */ }
        if (!stop.signal.aborted) await sleep(backoffMs(attempt))
      }
    }
    const running = new Set<Promise<void>>()
    const startLane = () => {
      if (stop.signal.aborted || performance.now() >= this.o.deadline) return
      const p: Promise<void> = lane().finally(() => running.delete(p))
      running.add(p)
    }
    startLane()
    const timers = this.o.hedgeMs > 0 ? [1, 2].map((n) => setTimeout(startLane, this.o.hedgeMs * n)) : []
    while (running.size > 0 && !stop.signal.aborted) await Promise.race(running)
    timers.forEach(clearTimeout)
    stop.abort()
    return outcome
  }

  private async poll(outcome: UploadOutcome, id: string): Promise<void> {
    for (let attempt = 0; performance.now() < this.o.deadline + 120_000; attempt++) {
      try {
        const res = await httpCall(`${this.url}/api/v1/jobs/${id}?wait=20`, { agent: this.polls, totalTimeoutMs: 30_000 })
        if (res.status === 200) {
          const job = JSON.parse(res.text) as JobView
          if (job.status !== 'queued' && job.status !== 'running') {
            outcome.job = job
            outcome.finalAt = performance.now()
            return
          }
          attempt = -1
          continue
        }
      } catch { /* retry */ }
      await sleep(backoffMs(attempt))
    }
  }

  close(): void {
    this.uploads.destroy()
    this.polls.destroy()
  }
}
