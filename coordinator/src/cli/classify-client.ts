import type { JobPage, JobView, Problem, SubmitResponse } from '@hivesight/protocol'
import { Unreachable } from './models-client.ts'
import { unreachableMessage } from './models-format.ts'
import { Abandoned, ApiProblem } from './classify-retry.ts'

const ASK_MS = 30_000
/** An image is at most a few MB, but the link may be slow. */
const UPLOAD_MS = 120_000
/** How long one GET /api/v1/jobs/:id?wait= holds on (the coordinator allows up to MAX_WAIT_SECONDS, 60 by default). */
export const WAIT_SECONDS = 30

/** What the run loop needs of the coordinator; a fake one stands in for it in the unit tests. */
export interface JobsApi {
  submit(bytes: Uint8Array<ArrayBuffer>, filename: string, model: string | null, idempotencyKey: string, signal?: AbortSignal): Promise<{ jobId: string; replayed: boolean }>
  job(id: string, waitSeconds: number, signal?: AbortSignal): Promise<JobView>
  retry(id: string, signal?: AbortSignal): Promise<JobView>
}

async function problemOf(res: Response): Promise<ApiProblem> {
  const text = await res.text().catch(() => '')
  const retryAfter = res.headers.get('retry-after')
  try {
    const p = JSON.parse(text) as Partial<Problem>
    return new ApiProblem(res.status, p.code ?? `HTTP_${res.status}`, p.detail || p.title || res.statusText, retryAfter)
  } catch {
    // Not a problem document: something other than a coordinator (a proxy) may be answering.
    return new ApiProblem(res.status, `HTTP_${res.status}`, `${res.statusText || 'error'}${text ? `: ${text.slice(0, 200)}` : ''}`, retryAfter)
  }
}

export class ClassifyClient implements JobsApi {
  constructor(private readonly url: string, private readonly key: string | null) {}

  /** One cheap authenticated request: is the coordinator there, and does it take the key? */
  async check(signal?: AbortSignal): Promise<void> {
    await this.request<JobPage>('GET', '/api/v1/jobs?limit=1', undefined, { signal })
  }

  async submit(bytes: Uint8Array<ArrayBuffer>, filename: string, model: string | null, idempotencyKey: string, signal?: AbortSignal) {
    const form = new FormData()
    // The coordinator reads the type from the bytes; the part's type is only a courtesy.
    form.append('image', new Blob([bytes], { type: 'application/octet-stream' }), filename)
    const query = model ? `?model=${encodeURIComponent(model)}` : ''
    const { body, res } = await this.exchange<SubmitResponse>('POST', `/api/v1/jobs${query}`, form, { signal, timeoutMs: UPLOAD_MS, idempotencyKey })
    const job = body.jobs[0]
    if (!job) throw new ApiProblem(res.status, 'NO_JOB', 'the coordinator accepted the upload but named no job')
    return { jobId: job.id, replayed: res.headers.get('idempotent-replayed') === 'true' }
  }

  job(id: string, waitSeconds: number, signal?: AbortSignal): Promise<JobView> {
    const query = waitSeconds > 0 ? `?wait=${waitSeconds}` : ''
    return this.request<JobView>('GET', `/api/v1/jobs/${encodeURIComponent(id)}${query}`, undefined, { signal, timeoutMs: (waitSeconds + 30) * 1000 })
  }

  retry(id: string, signal?: AbortSignal): Promise<JobView> {
    return this.request<JobView>('POST', `/api/v1/jobs/${encodeURIComponent(id)}/retry`, undefined, { signal })
  }

  private async request<T>(method: string, path: string, body: FormData | undefined, opts: { signal?: AbortSignal | undefined; timeoutMs?: number }): Promise<T> {
    return (await this.exchange<T>(method, path, body, opts)).body
  }

  private async exchange<T>(method: string, path: string, body: FormData | undefined, opts: { signal?: AbortSignal | undefined; timeoutMs?: number; idempotencyKey?: string }): Promise<{ body: T; res: Response }> {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json' }
    if (this.key) headers.authorization = `Bearer ${this.key}`
    if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? ASK_MS)
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout
    let res: Response
    let text: string
    try {
      res = await fetch(this.url + path, { method, headers, body, signal })
      if (!res.ok) throw await problemOf(res)
      text = await res.text()
    } catch (err) {
      if (opts.signal?.aborted) throw new Abandoned()
      if (err instanceof ApiProblem) throw err
      const words = unreachableMessage(err, this.url)
      // A connection cut while the answer was read is as transient as one refused.
      throw words ? new Unreachable(words) : err instanceof TypeError ? new Unreachable(`the connection to ${this.url} failed: ${err.message}`) : err
    }
    return { body: (text ? JSON.parse(text) : null) as T, res }
  }
}
