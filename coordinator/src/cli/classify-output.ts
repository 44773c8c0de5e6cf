import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs'
import type { JobView } from '@hivesight/protocol'
import type { OutFormat } from './classify-args.ts'
import { readResults } from './classify-resume.ts'

// The results file of `npm run classify`: one line per image, appended the moment its result is known.

export const CSV_HEADER = ['path', 'job_id', 'status', 'model', 'version', 'top1_label', 'top1_score', 'top5', 'error'] as const

/** The command's verdict on one image: succeeded, or failed with the reason (the job's, or the upload's). */
export type RowStatus = 'succeeded' | 'failed'

export interface TopPrediction { label: string; wnid: string; score: number }

export interface ResultRow {
  path: string
  jobId: string | null
  status: RowStatus
  model: string | null
  version: number | null
  top1Label: string | null
  top1Score: number | null
  top5: TopPrediction[] | null
  error: string | null
}

/** A final job as a row: succeeded with its top 5, or failed with the job's status and error. */
export function rowFromJob(path: string, job: JobView): ResultRow {
  const ref = job.result?.model ?? job.model
  const base = { path, jobId: job.id, model: ref?.name ?? null, version: ref?.version ?? null }
  if (job.status === 'succeeded' && job.result) {
    const top5 = job.result.predictions.slice(0, 5).map((p) => ({ label: p.label, wnid: p.wnid, score: p.score }))
    return { ...base, status: 'succeeded', top1Label: top5[0]?.label ?? null, top1Score: top5[0]?.score ?? null, top5, error: null }
  }
  const why = job.error ? `${job.error.code}: ${job.error.message}` : 'no reason given'
  const error = job.status === 'failed' ? why : job.status === 'dead' ? `dead after ${job.attempts} attempts: ${why}` : `job ${job.status}${job.error ? `: ${why}` : ''}`
  return { ...base, status: 'failed', top1Label: null, top1Score: null, top5: null, error }
}

/** An image that failed before any job had an answer (refused upload, unreadable file). */
export function failedRow(path: string, error: string, jobId: string | null = null): ResultRow {
  return { path, jobId, status: 'failed', model: null, version: null, top1Label: null, top1Score: null, top5: null, error }
}

/** RFC 4180: quoted when it holds a comma, a quote, a line break or edge spaces; quotes doubled. */
export function csvField(value: string | number | null): string {
  if (value === null) return ''
  const s = String(value)
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

export const csvRecord = (fields: readonly (string | number | null)[]) => `${fields.map(csvField).join(',')}\n`

export function csvLine(r: ResultRow): string {
  return csvRecord([r.path, r.jobId, r.status, r.model, r.version, r.top1Label, r.top1Score, r.top5 ? JSON.stringify(r.top5) : null, r.error])
}

export function jsonlLine(r: ResultRow): string {
  return `${JSON.stringify({ path: r.path, job_id: r.jobId, status: r.status, model: r.model, version: r.version, top1_label: r.top1Label, top1_score: r.top1Score, top5: r.top5, error: r.error })}\n`
}

export const formatRow = (r: ResultRow, format: OutFormat) => (format === 'csv' ? csvLine(r) : jsonlLine(r))

/** The file is there but is not one this command wrote: refuse rather than append to (or cut) it. */
export class NotAResultsFile extends Error {}

/**
 * The results file, open for appending. Each row is one write(2) of one whole line, so a Ctrl-C or even a
 * kill -9 leaves every line written before it complete; nothing is buffered in this process.
 */
export class ResultWriter {
  private constructor(private fd: number | null, readonly format: OutFormat) {}

  /**
   * Opens (or creates) `path`, reads the rows already there and returns them with the writer. A last line
   * cut short (the run before was killed mid-write) is cut off, so the next row starts on a line of its own.
   */
  static open(path: string, format: OutFormat): { writer: ResultWriter; previous: ResultRow[] } {
    let fd: number
    try {
      fd = openSync(path, 'a+')
    } catch (err) {
      throw new Error(`cannot open --out ${path}: ${err instanceof Error ? err.message : String(err)}`)
    }
    try {
      const text = readFileSync(fd, 'utf8')
      const read = readResults(text, format)
      if (read.error) throw new NotAResultsFile(`${path}: ${read.error}; name another --out`)
      const keep = Buffer.byteLength(text.slice(0, read.complete), 'utf8')
      if (keep < Buffer.byteLength(text, 'utf8')) ftruncateSync(fd, keep)
      const writer = new ResultWriter(fd, format)
      if (format === 'csv' && keep === 0) writer.writeRaw(csvRecord(CSV_HEADER))
      return { writer, previous: read.rows }
    } catch (err) {
      closeSync(fd)
      throw err
    }
  }

  write(row: ResultRow): void {
    this.writeRaw(formatRow(row, this.format))
  }

  private writeRaw(line: string): void {
    if (this.fd === null) throw new Error('the results file is closed')
    const bytes = Buffer.from(line, 'utf8')
    // Appending: the file position is the end whatever it was; a short write is finished by the loop.
    for (let off = 0; off < bytes.length;) off += writeSync(this.fd, bytes, off)
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd)
    this.fd = null
  }
}
