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
  /** What the stored image is: the upload's type, or what it was made into when accepted (a shrunk picture, the model input). */
  content_type: string
  /** The upload's own content type where the stored image is something else (else null: content_type is both). */
  upload_content_type: string | null
  byte_size: number
  width: number
  height: number
  result_json: string | null
  error_code: string | null
  error_message: string | null
  /** The API key that submitted the job (null in open mode): other keys do not see it. */
  owner_key_id: string | null
  /** 1 when volunteer tabs may see it (its key, or the deployment, allows it). */
  volunteers_allowed: Generated<number>
  /** 1 when volunteers disagreed or one said it failed: only a trusted worker may answer it now. */
  needs_trusted: Generated<number>
  /** 1 while leased to a volunteer: losing that lease uses no attempt. */
  lease_untrusted: Generated<number>
  /** 1 once a volunteer's answer was kept for it: a trusted result then reads them (and only then). */
  has_opinions: Generated<number>
  /** The exact model version (model_versions.id) it runs on; null for jobs from before the model repository. */
  model_version_id: string | null
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
  /** 1 for a trusted worker (runtime credentials, or open mode's headless pages), 0 for a volunteer tab. */
  trusted: Generated<number>
  /** A volunteer's identity for verification; null for trusted workers. */
  identity: string | null
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
  /** 1: may make and revoke join links. */
  admin: Generated<number>
  /** 1: this key's jobs may go to volunteer tabs. */
  volunteers: Generated<number>
}

/** A volunteer's answer to a job that is not final yet (kept until a quorum or a trusted worker decides). */
export interface JobOpinionTable {
  job_id: string
  /** A join link's name, or `net:<network>` for a tab that joined without a link (open mode). */
  identity: string
  network: string | null
  top1: number
  result_json: string
  created_at: number
}

/** Images whose answer a trusted worker gave clearly: spot checks for volunteers. */
export interface KnownAnswerTable {
  job_id: string
  bytes: Buffer
  top1: number
  created_at: number
  /** The version that answered (null: from before the model repository, the imported MobileNet). */
  model_version_id: string | null
  /** What `bytes` are, as jobs.content_type (null: from before migration 011, a picture). */
  content_type: string | null
}

/** A volunteer identity's honesty record (speed is in `workers`, per connection). */
export interface VolunteerIdentityTable {
  identity: string
  answers: Generated<number>
  confirmed: Generated<number>
  checks_passed: Generated<number>
  checks_failed: Generated<number>
  contradicted: Generated<number>
  quarantined_at: number | null
  quarantine_reason: string | null
  updated_at: number
}

/** A join link: its token carries the name, the row says whether it still admits tabs. */
export interface JoinLinkTable {
  name: string
  created_by: string | null
  created_at: number
  expires_at: number
  revoked_at: number | null
  max_sessions: number
}

/** A live worker session: its token (hashed) and who holds it, touched by the holder's coordinator. */
export interface WorkerSessionTable {
  token_hash: string
  worker_id: string
  coordinator_id: string
  seen_at: number
}

/** A worker VM's own credential (hashed): it expires, can be revoked, and names only that VM. */
export interface WorkerCredentialTable {
  name: string
  secret_hash: string
  created_at: number
  expires_at: number
  revoked_at: number | null
  max_sessions: number
}

/** One immutable model version; only `state` (validating → ready | failed) and its timestamps change. */
export interface ModelVersionTable {
  id: string
  model_name: string
  version: number
  state: 'validating' | 'ready' | 'failed'
  failure_reason: string | null
  /** ModelDescriptor (protocol/api/model.ts): what a worker page needs to run it. */
  descriptor_json: string
  /** ClassLabel[] in output order after the label offset. */
  classes_json: string
  byte_size: number
  created_at: number
  ready_at: number | null
  smoke_json: string | null
  label_on_ready: string | null
}

/** A version's files in load order (model.json, then the shards), by content hash. */
export interface ModelFileTable {
  version_id: string
  seq: number
  path: string
  sha256: string
  byte_size: number
}

/** File contents, content-addressed, in chunks (shared by versions that reuse a shard). */
export interface ModelChunkTable {
  sha256: string
  seq: number
  bytes: Buffer
}

/** A movable name for a version (`default`, `stable`, …), with an optional canary share. */
export interface ModelLabelTable {
  model_name: string
  label: string
  version_id: string
  canary_version_id: string | null
  canary_percent: Generated<number>
  updated_at: number
}

export interface Database {
  jobs: JobTable
  workers: WorkerTable
  idempotency_keys: IdempotencyKeyTable
  api_keys: ApiKeyTable
  worker_sessions: WorkerSessionTable
  images: ImageTable
  coordinator_events: CoordinatorEventTable
  job_opinions: JobOpinionTable
  known_answers: KnownAnswerTable
  volunteer_identities: VolunteerIdentityTable
  join_links: JoinLinkTable
  worker_credentials: WorkerCredentialTable
  model_versions: ModelVersionTable
  model_files: ModelFileTable
  model_chunks: ModelChunkTable
  model_labels: ModelLabelTable
}

export type JobRow = Selectable<JobTable>
export type NewJob = Insertable<JobTable>
export type JobUpdate = Updateable<JobTable>
export type WorkerRow = Selectable<WorkerTable>
export type NewWorker = Insertable<WorkerTable>
export type ModelVersionRow = Selectable<ModelVersionTable>
export type ModelLabelRow = Selectable<ModelLabelTable>
