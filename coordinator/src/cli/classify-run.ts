import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { TERMINAL_STATUSES, type JobView } from '@hivesight/protocol'
import { WAIT_SECONDS, type JobsApi } from './classify-client.ts'
import { failedRow, rowFromJob, type ResultRow } from './classify-output.ts'
import { Abandoned, abortableSleep, ApiProblem, GaveUp, withRetries, type RetryOptions } from './classify-retry.ts'
import { HttpProblem } from './models-format.ts'

// The upload-and-wait loop of `npm run classify`: at most `concurrency` images in flight at once.

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex')

/**
 * The Idempotency-Key of one image: its bytes, the file name it is sent under (the coordinator's
 * fingerprint of an upload includes it, so two copies of one image under two names need two keys) and
 * the model asked for. The same image sent again, by this run or the next, gets the same job back.
 */
export function idempotencyKey(bytes: Uint8Array, filename: string, model: string | null): string {
  return `classify-${sha256(bytes)}-${sha256(filename).slice(0, 16)}${model ? `-${model}` : ''}`
}

/** Ends the run: the same answer would come for every image (a refused key, a model that does not exist). */
export class RunStopped extends Error {}

function stopsTheRun(err: HttpProblem): boolean {
  return err.status === 401 || err.status === 403 || err.code === 'MODEL_NOT_FOUND'
}

export interface RunControl {
  /** Set on the first Ctrl-C: no image is started after it; those in flight go on. */
  stopping: boolean
  /** Aborted on the second Ctrl-C (or a fatal error): what is in flight is dropped. */
  abandon: AbortSignal
}

export interface RunOptions {
  api: JobsApi
  model: string | null
  concurrency: number
  control: RunControl
  retry?: Omit<RetryOptions, 'signal'>
  /** Each image's row, as soon as it is known (written to the file before anything else happens). */
  onResult: (row: ResultRow) => void
  readBytes?: (path: string) => Promise<Uint8Array<ArrayBuffer>>
}

export interface RunOutcome {
  succeeded: number
  failed: number
  /** Started but not finished: abandoned, or cut short when the run stopped. A re-run does them. */
  unfinished: number
  /** Never started (Ctrl-C, or the run stopped). */
  notStarted: number
  /** Why the run stopped early, when it did for an error (not for Ctrl-C). */
  stoppedBy: string | null
}

const isFinal = (j: JobView) => TERMINAL_STATUSES.includes(j.status)

function problemWords(err: HttpProblem): string {
  return `${err.status} ${err.code}: ${err.detail}`
}

/** Reads and uploads one image: its job, or the row of an image refused (the bytes are let go of after). */
async function upload(path: string, opts: RunOptions, retry: RetryOptions): Promise<{ jobId: string; replayed: boolean } | ResultRow> {
  let bytes: Uint8Array<ArrayBuffer>
  try {
    bytes = await (opts.readBytes ?? ((p) => readFile(p).then((b) => new Uint8Array(b))))(path)
  } catch (err) {
    return failedRow(path, `cannot read the file: ${err instanceof Error ? err.message : String(err)}`)
  }
  const filename = basename(path)
  const key = idempotencyKey(bytes, filename, opts.model)
  try {
    return await withRetries(() => opts.api.submit(bytes, filename, opts.model, key, opts.control.abandon), retry)
  } catch (err) {
    if (!(err instanceof HttpProblem)) throw err
    if (stopsTheRun(err)) throw new RunStopped(problemWords(err))
    return failedRow(path, `upload refused: ${problemWords(err)}`)
  }
}

/** One image from its bytes to its row; throws Abandoned, GaveUp or RunStopped when it has no row to give. */
async function classifyOne(path: string, opts: RunOptions): Promise<ResultRow> {
  const { api, control } = opts
  const retry: RetryOptions = { ...opts.retry, signal: control.abandon }
  const submitted = await upload(path, opts, retry)
  if ('status' in submitted) return submitted
  const { jobId, replayed } = submitted
  let requeued = false
  for (;;) {
    let job: JobView
    const asked = Date.now()
    try {
      job = await withRetries(() => api.job(jobId, WAIT_SECONDS, control.abandon), retry)
    } catch (err) {
      if (err instanceof ApiProblem && err.status === 404) return failedRow(path, `the job is gone: ${problemWords(err)}`, jobId)
      if (err instanceof HttpProblem && stopsTheRun(err)) throw new RunStopped(problemWords(err))
      throw err
    }
    if (!isFinal(job)) {
      // A coordinator that answers at once instead of holding the request must not be asked in a tight loop.
      if (Date.now() - asked < 1000) await abortableSleep(1000, control.abandon)
      continue
    }
    // An earlier run's job that used up its attempts (workers lost, say): this run is its retry.
    if (job.status === 'dead' && replayed && !requeued) {
      requeued = true
      // A 409 means it is not dead any more (someone else retried it first): wait for that run instead.
      await withRetries(() => api.retry(jobId, control.abandon), retry).catch((err: unknown) => {
        if (!(err instanceof ApiProblem && err.status === 409)) throw err
      })
      continue
    }
    return rowFromJob(path, job)
  }
}

/**
 * Classifies `paths` in order with at most `concurrency` in flight, handing each row to onResult as
 * soon as it is known. Stops starting new images once control.stopping is set; stops altogether (and
 * abandons what is in flight through `abandonAll`) on an error that every image would meet.
 */
export async function classifyAll(paths: readonly string[], opts: RunOptions, abandonAll: () => void): Promise<RunOutcome> {
  const outcome: RunOutcome = { succeeded: 0, failed: 0, unfinished: 0, notStarted: 0, stoppedBy: null }
  let next = 0
  const stop = (why: string) => {
    if (outcome.stoppedBy === null) outcome.stoppedBy = why
    opts.control.stopping = true
    abandonAll()
  }
  const lane = async () => {
    while (next < paths.length && !opts.control.stopping) {
      const path = paths[next++]!
      try {
        const row = await classifyOne(path, opts)
        opts.onResult(row)
        if (row.status === 'succeeded') outcome.succeeded++
        else outcome.failed++
      } catch (err) {
        outcome.unfinished++
        if (err instanceof RunStopped) stop(err.message)
        else if (err instanceof GaveUp) stop(`the coordinator kept failing: ${err.message}`)
        else if (!(err instanceof Abandoned)) stop(err instanceof Error ? err.message : String(err))
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, paths.length)) }, lane))
  outcome.notStarted = paths.length - next
  return outcome
}
