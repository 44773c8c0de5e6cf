import { readFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { basename } from 'node:path'
import type { JobView } from '@hivesight/protocol'
import type { LabelledImage } from '../dataset/labelled-dataset.ts'
import { multipartBody, postUpload } from './upload-load.ts'

/** An image with its upload body built before the clock starts, so the load measures the system. */
export interface LoadImage { file: string; wnid: string; upload: { body: Buffer; contentType: string } }
/** An upload that got its 202 (`id`) or did not (`error`). */
interface Accepted { image: LoadImage; sent: number; id?: string; error?: string }
/** One image's trip: upload sent → final job seen. */
export interface Trip { image: LoadImage; latencyMs: number; doneAt: number; job?: JobView; error?: string }

export function loadImages(images: LabelledImage[]): LoadImage[] {
  return images.map((i) => ({
    file: i.file, wnid: i.wnid,
    upload: multipartBody(readFileSync(i.path), basename(i.file), /\.png$/i.test(i.file) ? 'image/png' : 'image/jpeg'),
  }))
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)))

/** The REST API as a client sees it: one image per POST /api/v1/jobs, results by long-poll. */
export class LoadClient {
  // Separate pools: long-polls that hold their sockets must not hold up the uploads.
  private readonly uploads: Agent
  private readonly polls = new Agent({ keepAlive: true, maxSockets: 128 })

  constructor(private readonly url: string, uploaders: number, private readonly deadline: number) {
    this.uploads = new Agent({ keepAlive: true, maxSockets: uploaders })
  }

  /** Upload → final job; never throws (a failure is a Trip with `error`). */
  async trip(image: LoadImage): Promise<Trip> {
    return this.result(await this.upload(image))
  }

  /** Phase 1: the upload, until its 202. */
  async upload(image: LoadImage): Promise<Accepted> {
    const sent = performance.now()
    try {
      const up = await postUpload(this.url, this.uploads, image.upload)
      const id = up.ids[0]
      return up.status === 202 && id ? { image, sent, id } : { image, sent, error: `upload answered ${up.status}` }
    } catch (err) {
      return { image, sent, error: err instanceof Error ? err.message : String(err) }
    }
  }

  /** Phase 2: long-polls until the job is final. */
  async result(a: Accepted): Promise<Trip> {
    const finish = (job: JobView | undefined, error?: string): Trip => {
      const doneAt = performance.now()
      return { image: a.image, latencyMs: doneAt - a.sent, doneAt, job, error }
    }
    if (!a.id) return finish(undefined, a.error)
    try {
      const job = await this.waitFinal(a.id)
      return finish(job, job.status === 'succeeded' ? undefined : job.error?.code ?? job.status)
    } catch (err) {
      return finish(undefined, err instanceof Error ? err.message : String(err))
    }
  }

  private async waitFinal(id: string): Promise<JobView> {
    for (;;) {
      const left = this.deadline - Date.now()
      if (left <= 0) throw new Error('timeout: no final state before the load deadline')
      // ?wait answers as soon as the job is final; 30 s stays under the default MAX_WAIT_SECONDS (60).
      const job = await this.getJson<JobView>(`/api/v1/jobs/${id}?wait=${Math.max(1, Math.min(30, Math.floor(left / 1000)))}`)
      if (job.status !== 'queued' && job.status !== 'running') return job
    }
  }

  private getJson<T>(path: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const req = request(`${this.url}${path}`, { agent: this.polls }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString()
          if (res.statusCode !== 200) reject(new Error(`GET ${path} answered ${res.statusCode}: ${text.slice(0, 200)}`))
          else resolve(JSON.parse(text) as T)
        })
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end()
    })
  }

  close(): void {
    this.uploads.destroy()
    this.polls.destroy()
  }
}

/**
 * `images` uploaded by `concurrency` clients, each sending its next upload as soon as the last one is
 * accepted (202); every result is awaited by long-poll meanwhile.
 */
export async function openBatch(client: LoadClient, images: LoadImage[], concurrency: number, onDone: () => void): Promise<Trip[]> {
  const trips: Promise<Trip>[] = []
  let next = 0
  await Promise.all(Array.from({ length: Math.min(concurrency, images.length) }, async () => {
    for (let i = next++; i < images.length; i = next++) {
      const accepted = await client.upload(images[i]!)
      trips.push(client.result(accepted).then((t) => {
        onDone()
        return t
      }))
    }
  }))
  return Promise.all(trips)
}

/** One image at a time on an idle system, with a short pause between. */
export async function idle(client: LoadClient, images: LoadImage[], n: number, onDone: () => void): Promise<Trip[]> {
  const trips: Trip[] = []
  for (let i = 0; i < n; i++) {
    trips.push(await client.trip(images[i % images.length]!))
    onDone()
    await sleep(50)
  }
  return trips
}

/** Arrival times (ms from the start) of a Poisson process at `perSecond` over `seconds`. */
export function poissonSchedule(perSecond: number, seconds: number): number[] {
  const at: number[] = []
  for (let t = -Math.log(1 - Math.random()) * 1000 / perSecond; t <= seconds * 1000; t += (-Math.log(1 - Math.random()) * 1000) / perSecond) at.push(t)
  return at
}

/** Open-loop arrivals at the times of `schedule`; each arrival is one upload and its result. */
export async function openLoop(client: LoadClient, images: LoadImage[], schedule: number[], onDone: () => void): Promise<{ trips: Trip[]; achievedPerSecond: number }> {
  const t0 = performance.now()
  const pending: Promise<Trip>[] = []
  for (const at of schedule) {
    await sleep(t0 + at - performance.now())
    pending.push(client.trip(images[pending.length % images.length]!).then((t) => {
      onDone()
      return t
    }))
  }
  const achievedPerSecond = pending.length / ((performance.now() - t0) / 1000)
  return { trips: await Promise.all(pending), achievedPerSecond }
}

/** `concurrency` clients, each uploading its next image once it has the last one's result. */
export async function closedLoop(client: LoadClient, images: LoadImage[], n: number, concurrency: number, onDone: () => void): Promise<Trip[]> {
  const trips: Trip[] = []
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let i = next++; i < n; i = next++) {
      trips.push(await client.trip(images[i % images.length]!))
      onDone()
    }
  }))
  return trips
}
