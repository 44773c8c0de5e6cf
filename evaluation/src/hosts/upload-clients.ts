import { randomUUID } from 'node:crypto'
import type { SubmitResponse } from '@hivesight/protocol'
import { sleep } from './sh.ts'

/** What a client saw for one request, as counted in the run's `clientSaw`. */
export type Answer = '202' | `503 ${'coordinator' | 'balancer'}, ${'Retry-After' | 'no Retry-After'}` | 'connection error' | `${number}`

/**
 * Pure: names an answer. A 503 must carry Retry-After (a client is told when to come back): a
 * coordinator's is JSON; HAProxy's own ("no server is available", every coordinator unready) is HTML and
 * gets its Retry-After from the rig's config.
 */
export function classifyAnswer(status: number, contentType: string | null, retryAfter: string | null): Answer {
  if (status === 0) return 'connection error'
  if (status === 503) {
    const from = contentType?.includes('json') ? 'coordinator' : 'balancer'
    return `503 ${from}, ${retryAfter && Number(retryAfter) > 0 ? 'Retry-After' : 'no Retry-After'}`
  }
  return String(status) as Answer
}

/** Pure: 503s that did not say when to come back. */
export function refusedWithoutRetryAfter(saw: Record<string, number>): number {
  return Object.entries(saw).filter(([k]) => k.startsWith('503') && k.endsWith('no Retry-After')).reduce((s, [, n]) => s + n, 0)
}

export interface LoadEvents {
  /** A 202 for `key`: its jobs, at epoch ms `at`. */
  ack(key: string, ids: string[], at: number): void
  saw(answer: Answer, why?: string): void
}

export interface LoadOptions {
  url: string
  imagesPerRequest: number
  concurrency: number
  /** Stop starting new keys after this many (Infinity: until `stopped()`). */
  requests: number
  stopped: () => boolean
  image: Uint8Array<ArrayBuffer>
}

/**
 * Clients uploading through the balancer: each key is retried (same Idempotency-Key) until it gets a
 * 202; every 10th key is asked again after its 202, which must give the same jobs.
 */
export async function runUploads(opts: LoadOptions, on: LoadEvents): Promise<number> {
  let started = 0
  const submit = async (key: string): Promise<string[] | undefined> => {
    const form = new FormData()
    for (let i = 0; i < opts.imagesPerRequest; i++) form.append('image', new Blob([opts.image], { type: 'image/png' }), `img-${i}.png`)
    try {
      const res = await fetch(`${opts.url}/api/v1/jobs`, { method: 'POST', body: form, headers: { 'idempotency-key': key }, signal: AbortSignal.timeout(15_000) })
      on.saw(classifyAnswer(res.status, res.headers.get('content-type'), res.headers.get('retry-after')))
      if (res.status !== 202) {
        await res.body?.cancel()
        return undefined
      }
      return ((await res.json()) as SubmitResponse).jobs.map((j) => j.id)
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } }
      on.saw('connection error', e.name === 'TimeoutError' ? 'timeout' : (e.cause?.code ?? e.name))
      return undefined
    }
  }
  await Promise.all(Array.from({ length: opts.concurrency }, async () => {
    while (started < opts.requests && !opts.stopped()) {
      const n = ++started
      const key = randomUUID()
      for (let attempt = 0; ; attempt++) {
        const ids = await submit(key)
        if (ids) {
          on.ack(key, ids, Date.now())
          if (n % 10 === 0) {
            const again = await submit(key)
            if (again) on.ack(key, again, Date.now())
          }
          break
        }
        if (attempt > 2_000) throw new Error(`upload ${key} never acknowledged`)
        await sleep(100 + Math.random() * 200)
      }
    }
  }))
  return started
}
