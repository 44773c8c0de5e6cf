import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { LabelMove, ModelList, ModelVersionView, ModelView, Problem } from '@hivesight/protocol'
import { HttpProblem, unreachableMessage } from './models-format.ts'

/** The part name every model file travels under; the coordinator goes by each part's file name. */
export const MODEL_FILE_FIELD = 'files'
const ASK_MS = 30_000
/** Weights can be tens of MB over a slow link. */
const UPLOAD_MS = 10 * 60_000

/** The coordinator was not reached; the message says so in words. */
export class Unreachable extends Error {}

export interface ModelFile { name: string; bytes: Uint8Array<ArrayBuffer> }

/**
 * Every regular file of DIR, model.json first (the coordinator reads it to know what follows), then the
 * rest by name. Dot files (.DS_Store and the like) are left out: they are never part of a model.
 */
export async function readModelDir(dir: string): Promise<ModelFile[]> {
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : ''
    throw new Error(code === 'ENOENT' ? `no directory ${dir}` : code === 'ENOTDIR' ? `${dir} is not a directory` : `cannot read ${dir}: ${String(err)}`)
  }
  const names = entries.filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name)
  if (!names.includes('model.json')) throw new Error(`${dir} has no model.json (found: ${names.join(', ') || 'no files'})`)
  names.sort((a, b) => (a === 'model.json' ? -1 : b === 'model.json' ? 1 : a.localeCompare(b)))
  return Promise.all(names.map(async (name) => ({ name, bytes: new Uint8Array(await readFile(join(dir, name))) })))
}

/** The multipart body: the fields before the files, so the name is known before any bytes are stored. */
export function modelForm(name: string, files: readonly ModelFile[], label: string | null): FormData {
  const form = new FormData()
  form.append('name', name)
  if (label) form.append('label', label)
  for (const f of files) {
    form.append(MODEL_FILE_FIELD, new Blob([f.bytes], { type: f.name.endsWith('.json') ? 'application/json' : 'application/octet-stream' }), f.name)
  }
  return form
}

async function problemOf(res: Response): Promise<HttpProblem> {
  const text = await res.text().catch(() => '')
  try {
    const p = JSON.parse(text) as Partial<Problem>
    return new HttpProblem(res.status, p.code ?? `HTTP_${res.status}`, p.detail || p.title || res.statusText, p.problems ?? [])
  } catch {
    // Not a problem document: something other than a coordinator may be answering at that URL.
    return new HttpProblem(res.status, `HTTP_${res.status}`, `${res.statusText || 'error'}${text ? `: ${text.slice(0, 200)}` : ''}`)
  }
}

export class ModelsClient {
  constructor(private readonly url: string, private readonly key: string | null) {}

  list = async () => (await this.request<ModelList>('GET', '/api/v1/models')).models
  model = (name: string) => this.request<ModelView>('GET', `/api/v1/models/${encodeURIComponent(name)}`)
  upload = (form: FormData) => this.request<ModelVersionView>('POST', '/api/v1/models', form, UPLOAD_MS)
  moveLabel = (name: string, label: string, move: LabelMove) =>
    this.request<ModelView>('PUT', `/api/v1/models/${encodeURIComponent(name)}/labels/${encodeURIComponent(label)}`, JSON.stringify(move))
  removeVersion = (name: string, version: number) => this.request<unknown>('DELETE', `/api/v1/models/${encodeURIComponent(name)}/versions/${version}`)

  private async request<T>(method: string, path: string, body?: string | FormData, timeoutMs = ASK_MS): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json' }
    if (this.key) headers.authorization = `Bearer ${this.key}`
    // FormData sets its own multipart content type with the boundary.
    if (typeof body === 'string') headers['content-type'] = 'application/json'
    let res: Response
    try {
      res = await fetch(this.url + path, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) })
    } catch (err) {
      const words = unreachableMessage(err, this.url)
      throw words ? new Unreachable(words) : err
    }
    if (!res.ok) throw await problemOf(res)
    const text = await res.text()
    return (text ? JSON.parse(text) : null) as T
  }
}

export interface WaitOptions {
  timeoutMs: number
  intervalMs: number
  /** Called after every look, with the version as it stands (or the error of a look that failed). */
  onProgress: (elapsedMs: number, note: string) => void
  now?: () => number
  sleep?: (ms: number) => Promise<void>
}

/**
 * Asks for the model until `version` is no longer validating; resolves with it then, or with null when
 * the time is up. A look that fails for want of the coordinator is reported and retried; any other
 * error (the version deleted, the key refused) ends the wait.
 */
export async function waitForVersion(fetchModel: () => Promise<ModelView>, version: number, opts: WaitOptions): Promise<{ model: ModelView; version: ModelVersionView } | null> {
  const now = opts.now ?? Date.now
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)))
  const start = now()
  while (now() - start < opts.timeoutMs) {
    let note = ''
    try {
      const m = await fetchModel()
      const v = m.versions.find((x) => x.version === version)
      if (!v) throw new Error(`v${version} is no longer listed: was it removed?`)
      if (v.state !== 'validating') return { model: m, version: v }
    } catch (err) {
      const transient = err instanceof Unreachable || (err instanceof HttpProblem && err.status >= 500)
      if (!transient) throw err
      note = `${err.message}; trying again`
    }
    opts.onProgress(now() - start, note)
    await sleep(opts.intervalMs)
  }
  return null
}
