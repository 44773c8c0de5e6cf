import type { Generated, Insertable, Selectable, Updateable } from 'kysely'

// Times are epoch milliseconds in BIGINT columns: they read the same on MariaDB and SQLite, and the
// coordinator, not the database, decides what "now" is (tests drive it with a fake clock).

/**
 * As the API shows them, plus 'delayed': a retry waiting out its back-off (shown as 'queued'). It is a
 * status of its own so that the claim's index range holds only jobs that may run now.
 */
export type JobStatus = 'queued' | 'delayed' | 'running' | 'succeeded' | 'failed' | 'canceled' | 'dead'

export interface JobTable {
  id: string // uuid v7 made by the app: time-ordered, so ORDER BY id is submission order
  status: JobStatus
  priority: number
  attempts: number // how many times the job was leased; also the fencing token's companion
  max_attempts: number
  lease_token: number // bumped on every lease: a result must quote the current value
  lease_expires_at: number | null
  /** A delayed job becomes queued at this time (retry back-off); for a queued job, when it became ready. */
  available_at: Generated<number>
  worker_id: string | null
  submitted_at: number
  started_at: number | null
  finished_at: number | null
  filename: string | null
  content_type: string
  byte_size: number
  width: number
  height: number
  result_json: string | null
  error_code: string | null
  error_message: string | null
  /** The API key that submitted the job (null in open mode): other keys do not see it. */
  owner_key_id: string | null
}

export interface WorkerTable {
  id: string
  kind: 'headless' | 'browser'
  name: string | null
  slots: number
  backend: string
  threads: number
  /** 1 when the wasm backend runs its SIMD build (SQLite has no boolean). */
  simd: number
  user_agent: string | null
  remote_address: string | null
  connected_at: number
  last_seen_at: number
  disconnected_at: number | null
  jobs_done: number
  /** The coordinator the worker is connected to. */
  coordinator_id: string | null
  /** Measured by that coordinator (workers/worker-figures.ts), written with each sweep's touch. */
  images_per_second: Generated<number>
  /** Mean inference and preparation (decode + resize) times; null until the first result. */
  infer_ms: number | null
  prepare_ms: number | null
}

/** Uploaded image bytes, one row per job, written in the same transaction as the job. */
export interface ImageTable {
  job_id: string
  bytes: Buffer
}

/** Signals between coordinators sharing the database: each polls for rows newer than it has seen. */
export interface CoordinatorEventTable {
  id: Generated<number>
  kind: string
  origin: string
  payload: string
  created_at: number
}

/** A submit with an Idempotency-Key, stored in the same transaction as its jobs. */
export interface IdempotencyKeyTable {
  idem_key: string
  /** sha256 of what was submitted: the same key with other content is refused. */
  fingerprint: string
  response_json: string
  created_at: number
}

export interface ApiKeyTable {
  id: string
  name: string
  key_hash: string
  key_prefix: string
  created_at: number
  revoked_at: number | null
}

/** A live worker session: its token (hashed) and who holds it, touched by the holder's coordinator. */
export interface WorkerSessionTable {
  token_hash: string
  worker_id: string
  coordinator_id: string
  seen_at: number
}

export interface Database {
  jobs: JobTable
  workers: WorkerTable
  idempotency_keys: IdempotencyKeyTable
  api_keys: ApiKeyTable
  worker_sessions: WorkerSessionTable
  images: ImageTable
  coordinator_events: CoordinatorEventTable
}

export type JobRow = Selectable<JobTable>
export type NewJob = Insertable<JobTable>
export type JobUpdate = Updateable<JobTable>
export type WorkerRow = Selectable<WorkerTable>
export type NewWorker = Insertable<WorkerTable>
