import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { JobView, ModelVersionView } from '@hivesight/protocol'
import { mapLimit } from '../client/hivesight-client.ts'
import { uploadModel, waitForState } from '../models/model-upload.ts'

// The pieces of the model-repository bench: the second MobileNet as a user would upload it, timed uploads,
// and passes of classifications against one coordinator.

export const LABEL_PREFIX = 'b: '

export interface ModelFile { name: string; bytes: Buffer }
export interface Photo { file: string; wnid: string; bytes: Buffer }
export interface Job { photo: number; model?: string }
export interface PassResult { perSecond: number; seconds: number; jobs: JobView[]; failed: string[] }

/**
 * The shared MobileNet as an upload: its model.json and shards unchanged, and a hivesight.json whose label
 * names carry a prefix, so the version id (manifest and shards hashed) differs from the built-in's while
 * the network, and so the cost of a job, is the same.
 */
export function mobilenetUpload(modelDir: string): { files: ModelFile[]; weightBytes: number } {
  const modelJson = readFileSync(join(modelDir, 'model.json'))
  const manifest = JSON.parse(modelJson.toString()) as { weightsManifest: { paths: string[] }[] }
  const shards = manifest.weightsManifest.flatMap((g) => g.paths).map((p) => ({ name: p, bytes: readFileSync(join(modelDir, p)) }))
  const entries = JSON.parse(readFileSync(join(modelDir, 'labels.json'), 'utf8')) as { index: number; wnid: string | null; name: string }[]
  const hivesight = {
    labels: entries.slice(1).map((e) => ({ id: e.wnid, name: `${LABEL_PREFIX}${e.name}` })),
    labelOffset: 1,
    softmax: true,
    input: { size: 224, resize: 'shorter-side-then-centre-crop', resizeShorterTo: 256, range: [0, 1] },
  }
  return {
    files: [{ name: 'model.json', bytes: modelJson }, ...shards, { name: 'hivesight.json', bytes: Buffer.from(JSON.stringify(hivesight)) }],
    weightBytes: shards.reduce((n, s) => n + s.bytes.length, 0),
  }
}

export interface ReadyTime {
  /** Client's clock: the POST sent → the poll that saw it ready (polled every 100 ms). */
  wallMs: number
  /** Coordinator's clock: createdAt → readyAt. */
  serverMs: number
  bytes: number
  smoke: ModelVersionView['smoke']
  version: ModelVersionView
}

/** Uploads `files` as `name` and waits for the smoke test; throws unless the version becomes ready. */
export async function timedUpload(url: string, name: string, files: ModelFile[], timeoutMs = 120_000): Promise<ReadyTime> {
  const t0 = performance.now()
  const up = await uploadModel(url, name, files)
  if (up.status !== 202) throw new Error(`POST /api/v1/models (${name}) answered ${up.status}: ${JSON.stringify(up.body).slice(0, 300)}`)
  const v = await waitForState(url, name, (up.body as ModelVersionView).version, timeoutMs)
  const wallMs = performance.now() - t0
  if (v.state !== 'ready') throw new Error(`${name} v${v.version} is ${v.state}: ${v.failureReason ?? 'no reason given'}`)
  return { wallMs, serverMs: (v.readyAt ?? NaN) - v.createdAt, bytes: files.reduce((n, f) => n + f.bytes.length, 0), smoke: v.smoke, version: v }
}

/** One synchronous classification (POST /api/v1/classify); throws on an HTTP error, returns the job otherwise. */
export async function classify(url: string, image: Buffer, model?: string, type = 'image/jpeg'): Promise<JobView> {
  const form = new FormData()
  form.append('image', new Blob([new Uint8Array(image)], { type }), type === 'image/png' ? 'picture.png' : 'photo.jpg')
  const res = await fetch(`${url}/api/v1/classify?timeout=60${model ? `&model=${encodeURIComponent(model)}` : ''}`, { method: 'POST', body: form })
  const text = await res.text()
  if (res.status !== 200) throw new Error(`POST /api/v1/classify${model ? ` (${model})` : ''} answered ${res.status}: ${text.slice(0, 300)}`)
  return JSON.parse(text) as JobView
}

/**
 * `jobs` by `concurrency` clients, each sending its next one once it has the last one's answer (a closed
 * loop: more clients than the pages' slots keep a queue, so the pages never wait for the client). A job
 * that did not succeed, or ran on another model than it asked for, is listed in `failed`.
 */
export async function runPass(url: string, photos: Photo[], jobs: Job[], concurrency: number, defaultModel: string): Promise<PassResult> {
  const failed: string[] = []
  const t0 = performance.now()
  const done = await mapLimit(jobs, concurrency, async (j) => {
    const job = await classify(url, photos[j.photo]!.bytes, j.model)
    const want = j.model ?? defaultModel
    if (job.status !== 'succeeded') failed.push(`${photos[j.photo]!.file} on ${want}: ${job.status} ${job.error?.message ?? ''}`)
    else if (job.result?.model.name !== want) failed.push(`${photos[j.photo]!.file} asked ${want}, ran on ${job.result?.model.name}`)
    return job
  })
  const seconds = (performance.now() - t0) / 1000
  return { perSecond: jobs.length / seconds, seconds, jobs: done, failed }
}

/** Every photo twice: both times on the default model, or once on each (alternating, so the mix is 50/50 all along). */
export function passJobs(photos: number, second?: string): Job[] {
  return Array.from({ length: photos }, (_, p) => [{ photo: p }, { photo: p, model: second }]).flat()
}

export interface AnswerCheck { compared: number; same: number; correct: number; mismatches: string[] }

/** In a two-model pass: the same photo must get the same top-1 wnid from both, and B must answer with its own labels. */
export function compareAnswers(photos: Photo[], jobs: Job[], results: JobView[], check: AnswerCheck = { compared: 0, same: 0, correct: 0, mismatches: [] }): AnswerCheck {
  const byPhoto = new Map<number, { a?: JobView; b?: JobView }>()
  for (const [i, j] of jobs.entries()) {
    const entry = byPhoto.get(j.photo) ?? {}
    entry[j.model ? 'b' : 'a'] = results[i]
    byPhoto.set(j.photo, entry)
  }
  for (const [p, { a, b }] of byPhoto) {
    const top = (x?: JobView) => x?.result?.predictions[0]
    const ta = top(a)
    const tb = top(b)
    if (!ta || !tb) continue
    check.compared++
    if (ta.wnid === tb.wnid && tb.label.startsWith(LABEL_PREFIX)) check.same++
    else if (check.mismatches.length < 5) check.mismatches.push(`${photos[p]!.file}: ${ta.wnid} vs ${tb.wnid} (${tb.label})`)
    if (ta.wnid === photos[p]!.wnid) check.correct++
  }
  return check
}
