import type { JobResultView, JobView } from '@hivesight/protocol'
import type { JobRow } from '../db/schema.ts'

export function toJobView(row: JobRow): JobView {
  return {
    id: row.id,
    // A retry waiting out its back-off is queued, as far as a client is concerned.
    status: row.status === 'delayed' ? 'queued' : row.status,
    filename: row.filename,
    contentType: row.content_type,
    bytes: Number(row.byte_size),
    width: Number(row.width),
    height: Number(row.height),
    priority: Number(row.priority),
    attempts: Number(row.attempts),
    submittedAt: Number(row.submitted_at),
    startedAt: row.started_at === null ? null : Number(row.started_at),
    finishedAt: row.finished_at === null ? null : Number(row.finished_at),
    workerId: row.worker_id,
    result: row.result_json ? (JSON.parse(row.result_json) as JobResultView) : null,
    // A queued job may carry the error of an earlier, retried attempt; show errors only once final.
    error: (row.status === 'failed' || row.status === 'dead') && row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : null,
  }
}
