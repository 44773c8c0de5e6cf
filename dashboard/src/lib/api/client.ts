import type { JobPage, JobStatus, JobView, JoinLinkView, Problem, SubmitResponse, WorkerList } from '@hivesight/protocol'
import { settings } from '../stores/settings.svelte.ts'

/** An API answer that was not 2xx, with the problem's stable code when there is one. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message)
  }
}

/** The key goes in a header, never in a URL (the coordinator refuses keys in query strings). */
export function authHeaders(): Record<string, string> {
  return settings.apiKey ? { authorization: `Bearer ${settings.apiKey}` } : {}
}

async function problemOf(res: Response): Promise<ApiError> {
  try {
    const p = (await res.json()) as Problem
    return new ApiError(res.status, p.code, p.detail || p.title)
  } catch {
    return new ApiError(res.status, 'HTTP_' + res.status, `${res.status} ${res.statusText}`)
  }
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(path, { ...init, headers: { ...authHeaders(), ...(init.headers as Record<string, string> | undefined) } })
  if (!res.ok) throw await problemOf(res)
  return (await res.json()) as T
}

export const api = {
  listJobs: (opts: { limit: number; cursor?: string | null; status?: JobStatus }) => {
    const q = new URLSearchParams({ limit: String(opts.limit) })
    if (opts.cursor) q.set('cursor', opts.cursor)
    if (opts.status) q.set('status', opts.status)
    return call<JobPage>(`/api/v1/jobs?${q}`)
  },
  job: (id: string) => call<JobView>(`/api/v1/jobs/${encodeURIComponent(id)}`),
  cancel: (id: string) => call<JobView>(`/api/v1/jobs/${encodeURIComponent(id)}`, { method: 'DELETE' }),
  retry: (id: string) => call<JobView>(`/api/v1/jobs/${encodeURIComponent(id)}/retry`, { method: 'POST' }),
  workers: () => call<WorkerList>('/api/v1/workers'),
  joinLink: (name: string, hours: number) => call<JoinLinkView>('/api/v1/join-links', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, hours }),
  }),
}

/**
 * Uploads one file with progress (fetch cannot report upload progress; XMLHttpRequest can). Resolves with
 * the submit answer or rejects with an ApiError; `abort` cancels it.
 */
export function uploadFile(file: File, onProgress: (fraction: number) => void): { done: Promise<SubmitResponse>; abort: () => void } {
  const xhr = new XMLHttpRequest()
  const done = new Promise<SubmitResponse>((resolve, reject) => {
    xhr.open('POST', '/api/v1/jobs')
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v)
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total) }
    xhr.onload = () => {
      let body: unknown
      try { body = JSON.parse(xhr.responseText) } catch { body = undefined }
      if (xhr.status === 202) return resolve(body as SubmitResponse)
      const p = body as Partial<Problem> | undefined
      reject(new ApiError(xhr.status, p?.code ?? `HTTP_${xhr.status}`, p?.detail ?? `the server answered ${xhr.status}`))
    }
    xhr.onerror = () => reject(new ApiError(0, 'NETWORK', 'the coordinator could not be reached'))
    xhr.onabort = () => reject(new ApiError(0, 'ABORTED', 'upload stopped'))
    const form = new FormData()
    form.append('image', file, file.name)
    xhr.send(form)
  })
  return { done, abort: () => xhr.abort() }
}
