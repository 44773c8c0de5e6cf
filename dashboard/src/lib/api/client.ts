import type { JobPage, JobStatus, JobView, JoinLinkView, LabelMove, ModelList, ModelVersionView, ModelView, Problem, SubmitResponse, WorkerList } from '@hivesight/protocol'
import { settings } from '../stores/settings.svelte.ts'

/** One of several things wrong with a request (a refused model upload): which file, which rule. */
export type ProblemItem = NonNullable<Problem['problems']>[number]

/** An API answer that was not 2xx, with the problem's stable code when there is one. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly problems: ProblemItem[] = []) {
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
    return new ApiError(res.status, p.code, p.detail || p.title, p.problems)
  } catch {
    return new ApiError(res.status, 'HTTP_' + res.status, `${res.status} ${res.statusText}`)
  }
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(path, { ...init, headers: { ...authHeaders(), ...(init.headers as Record<string, string> | undefined) } })
  if (!res.ok) throw await problemOf(res)
  // A deleted version answers 204, without a body.
  const text = await res.text()
  return (text ? JSON.parse(text) : null) as T
}

const enc = encodeURIComponent

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
  models: () => call<ModelList>('/api/v1/models'),
  model: (name: string) => call<ModelView>(`/api/v1/models/${enc(name)}`),
  moveLabel: (name: string, label: string, move: LabelMove) => call<ModelView>(`/api/v1/models/${enc(name)}/labels/${enc(label)}`, {
    method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(move),
  }),
  removeLabel: (name: string, label: string) => call<ModelView>(`/api/v1/models/${enc(name)}/labels/${enc(label)}`, { method: 'DELETE' }),
  removeVersion: (name: string, version: number) => call<unknown>(`/api/v1/models/${enc(name)}/versions/${version}`, { method: 'DELETE' }),
}

/**
 * POSTs a form with upload progress (fetch cannot report upload progress; XMLHttpRequest can). Resolves
 * with the 202 answer or rejects with an ApiError (carrying a 422's `problems`); `abort` cancels it.
 */
function sendForm<T>(path: string, form: FormData, onProgress: (fraction: number) => void): { done: Promise<T>; abort: () => void } {
  const xhr = new XMLHttpRequest()
  const done = new Promise<T>((resolve, reject) => {
    xhr.open('POST', path)
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v)
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total) }
    xhr.onload = () => {
      let body: unknown
      try { body = JSON.parse(xhr.responseText) } catch { body = undefined }
      if (xhr.status === 202) return resolve(body as T)
      const p = body as Partial<Problem> | undefined
      reject(new ApiError(xhr.status, p?.code ?? `HTTP_${xhr.status}`, p?.detail ?? `the server answered ${xhr.status}`, p?.problems))
    }
    xhr.onerror = () => reject(new ApiError(0, 'NETWORK', 'the coordinator could not be reached'))
    xhr.onabort = () => reject(new ApiError(0, 'ABORTED', 'upload stopped'))
    xhr.send(form)
  })
  return { done, abort: () => xhr.abort() }
}

/** Uploads one image as a job. */
export function uploadFile(file: File, onProgress: (fraction: number) => void): { done: Promise<SubmitResponse>; abort: () => void } {
  const form = new FormData()
  form.append('image', file, file.name)
  return sendForm<SubmitResponse>('/api/v1/jobs', form, onProgress)
}

/** The part name every model file travels under; the coordinator goes by each part's file name. */
export const MODEL_FILE_FIELD = 'files'

/**
 * Uploads a model version: the fields first (a streaming parser knows the name before the files arrive),
 * then model.json, then the rest as picked.
 */
export function uploadModel(name: string, files: readonly File[], label: string | null, onProgress: (fraction: number) => void): { done: Promise<ModelVersionView>; abort: () => void } {
  const form = new FormData()
  form.append('name', name)
  if (label) form.append('label', label)
  const ordered = [...files].sort((a, b) => Number(b.name === 'model.json') - Number(a.name === 'model.json'))
  for (const f of ordered) form.append(MODEL_FILE_FIELD, f, f.name)
  return sendForm<ModelVersionView>('/api/v1/models', form, onProgress)
}
