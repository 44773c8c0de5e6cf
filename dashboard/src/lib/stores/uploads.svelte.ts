import type { JobView } from '@hivesight/protocol'
import { ApiError, uploadFile } from '../api/client.ts'
import { jobs } from './jobs.svelte.ts'

// What the coordinator accepts (it reads the type from the bytes; these checks only save a round trip).
export const ACCEPTED_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif']
export const MAX_BYTES = 10 * 1024 * 1024
const PARALLEL = 4

export type UploadState = 'waiting' | 'uploading' | 'done' | 'failed' | 'refused'

export interface Upload {
  key: number
  file: File
  state: UploadState
  progress: number
  message: string
  jobId: string | null
}

/** Pure: why a file is refused before it is sent, or null. */
export function checkFile(f: { name: string; type: string; size: number }, maxBytes = MAX_BYTES): string | null {
  const byName = /\.(jpe?g|png|webp|gif)$/i.test(f.name)
  if (!ACCEPTED_TYPES.includes(f.type) && !(f.type === '' && byName)) return `not a JPEG, PNG, WebP or GIF image (${f.type || 'unknown type'})`
  if (f.size === 0) return 'the file is empty'
  if (f.size > maxBytes) return `${(f.size / 1048576).toFixed(1)} MiB is over the ${maxBytes / 1048576} MiB limit`
  return null
}

/** Files being sent: one request per file (so each has its own progress and retry), four at a time. */
class Uploads {
  items = $state<Upload[]>([])
  private nextKey = 1
  private running = 0

  overall = $derived.by(() => {
    const sent = this.items.filter((u) => u.state !== 'refused')
    const total = sent.reduce((s, u) => s + u.file.size, 0)
    const done = sent.reduce((s, u) => s + u.file.size * (u.state === 'done' ? 1 : u.progress), 0)
    return { fraction: total ? done / total : 0, done: sent.filter((u) => u.state === 'done').length, failed: sent.filter((u) => u.state === 'failed').length, total: sent.length }
  })

  add(files: Iterable<File>): void {
    for (const file of files) {
      const refused = checkFile(file)
      this.items.push({ key: this.nextKey++, file, state: refused ? 'refused' : 'waiting', progress: 0, message: refused ?? '', jobId: null })
    }
    this.pump()
  }

  retry(key: number): void {
    const u = this.items.find((i) => i.key === key)
    if (u?.state === 'failed') Object.assign(u, { state: 'waiting', progress: 0, message: '' })
    this.pump()
  }

  retryFailed(): void {
    for (const u of this.items) if (u.state === 'failed') Object.assign(u, { state: 'waiting', progress: 0, message: '' })
    this.pump()
  }

  clearFinished(): void {
    this.items = this.items.filter((u) => u.state === 'waiting' || u.state === 'uploading' || u.state === 'failed')
  }

  private pump(): void {
    while (this.running < PARALLEL) {
      const u = this.items.find((i) => i.state === 'waiting')
      if (!u) return
      this.running++
      void this.send(u).finally(() => {
        this.running--
        this.pump()
      })
    }
  }

  private async send(u: Upload): Promise<void> {
    u.state = 'uploading'
    try {
      const res = await uploadFile(u.file, (p) => { u.progress = p }).done
      const job = res.jobs[0]!
      Object.assign(u, { state: 'done', progress: 1, jobId: job.id })
      jobs.previews.set(job.id, URL.createObjectURL(u.file))
      // Shown at once; the stream brings its next states.
      if (!jobs.get(job.id)) jobs.upsert(provisional(job.id, u.file))
    } catch (err) {
      u.state = 'failed'
      u.message = err instanceof ApiError ? err.message : String(err)
    }
  }
}

function provisional(id: string, file: File): JobView {
  return {
    id, status: 'queued', filename: file.name, contentType: file.type, bytes: file.size, width: 0, height: 0, priority: 0, attempts: 0,
    submittedAt: Date.now(), startedAt: null, finishedAt: null, workerId: null, model: null, result: null, error: null,
  }
}

export const uploads = new Uploads()
