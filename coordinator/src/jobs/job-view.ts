import type { ClassScore, JobResultView, JobView, ModelRef } from '@hivesight/protocol'
import type { JobRow } from '../db/schema.ts'

/**
 * What a job's result column holds: the worker's class indices and scores (labels are looked up when
 * read, so a row stays ~150 bytes instead of ~450; every result is written on the dispatch hot path).
 */
export interface StoredResult {
  top: [number, number][]
  /** The version id that answered (rows from before the model repository hold the model's name). */
  model: string
  decodeMs: number
  inferMs: number
}

export function storedResult(top: ClassScore[], model: string, timings: { decodeMs: number; inferMs: number }): string {
  const r: StoredResult = { top: top.map((c) => [c.index, c.score]), model, decodeMs: Math.round(timings.decodeMs * 10) / 10, inferMs: Math.round(timings.inferMs * 10) / 10 }
  return JSON.stringify(r)
}

/** A version's labels for output indices, and its name and number (the model repository's cache). */
export interface Labeller {
  predictions(versionId: string, top: ClassScore[]): JobResultView['predictions']
  ref(versionId: string): ModelRef | null
}

const UNKNOWN_MODEL: ModelRef = { name: 'unknown', version: 0 }

function resultView(json: string, versionId: string | null, label: Labeller): JobResultView {
  const r = JSON.parse(json) as StoredResult | (Omit<JobResultView, 'model'> & { model: string | ModelRef })
  const model = (versionId && label.ref(versionId)) || UNKNOWN_MODEL
  // Rows written before results were stored compactly hold the whole view.
  if ('predictions' in r) return { ...r, model }
  const top = r.top.map(([index, score]) => ({ index, score }))
  return { predictions: versionId ? label.predictions(versionId, top) : [], model, decodeMs: r.decodeMs, inferMs: r.inferMs }
}

export function toJobView(row: JobRow, label: Labeller): JobView {
  return {
    id: row.id,
    // A retry waiting out its back-off is queued, as far as a client is concerned.
    status: row.status === 'delayed' ? 'queued' : row.status,
    filename: row.filename,
    contentType: row.upload_content_type ?? row.content_type,
    bytes: Number(row.byte_size),
    width: Number(row.width),
    height: Number(row.height),
    priority: Number(row.priority),
    attempts: Number(row.attempts),
    submittedAt: Number(row.submitted_at),
    startedAt: row.started_at === null ? null : Number(row.started_at),
    finishedAt: row.finished_at === null ? null : Number(row.finished_at),
    workerId: row.worker_id,
    model: row.model_version_id ? label.ref(row.model_version_id) : null,
    result: row.result_json ? resultView(row.result_json, row.model_version_id, label) : null,
    // A queued job may carry the error of an earlier, retried attempt; show errors only once final.
    error: (row.status === 'failed' || row.status === 'dead') && row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : null,
  }
}
