import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import type { JobView, SubmitResponse } from '@hivesight/protocol'

/** A small typed client of the REST API, as a script of a user would write it. */
export class HivesightClient {
  constructor(readonly baseUrl: string, private readonly headers: Record<string, string> = {}) {}

  async submitFiles(paths: string[], priority?: number): Promise<SubmitResponse> {
    const form = new FormData()
    for (const p of paths) form.append('image', new Blob([await readFile(p)]), basename(p))
    const query = priority === undefined ? '' : `?priority=${priority}`
    const res = await fetch(`${this.baseUrl}/api/v1/jobs${query}`, { method: 'POST', body: form, headers: this.headers })
    if (res.status !== 202) throw new Error(`submit answered ${res.status}: ${await res.text()}`)
    return (await res.json()) as SubmitResponse
  }

  async job(id: string, waitSeconds = 0): Promise<JobView> {
    const res = await fetch(`${this.baseUrl}/api/v1/jobs/${id}${waitSeconds > 0 ? `?wait=${waitSeconds}` : ''}`, { headers: this.headers })
    if (res.status !== 200) throw new Error(`GET job ${id} answered ${res.status}: ${await res.text()}`)
    return (await res.json()) as JobView
  }

  /** Long-polls until the job is final or `timeoutMs` passes. */
  async waitFinished(id: string, timeoutMs: number): Promise<JobView> {
    const end = Date.now() + timeoutMs
    for (;;) {
      const left = end - Date.now()
      const job = await this.job(id, Math.max(1, Math.min(30, Math.ceil(left / 1000))))
      if (job.status !== 'queued' && job.status !== 'running') return job
      if (Date.now() >= end) return job
    }
  }
}

/** Runs `fn` over items with at most `limit` at once, in order of the items. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!, i)
  }))
  return out
}
