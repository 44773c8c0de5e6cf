import type { Config } from '../config.ts'
import { MAX_FILES as MAX_MODEL_FILES } from '../http/models.routes.ts'
import { MAX_COMPLETIONS_PER_COMMIT } from '../jobs/answer-recorder.ts'
import { PURGE_BATCH } from '../jobs/retention.ts'
import { MAX_IMAGE_BYTES_PER_COMMIT, MAX_JOBS_PER_COMMIT } from '../jobs/upload-committer.ts'
import { LABEL_MAX } from '../models/model-manifest.ts'
import { BYTES_PER_STATEMENT } from './image.repository.ts'
import { CHUNK_BYTES } from './model.repository.ts'

/**
 * The most bytes one transaction (Galera replicates it as one write set, under wsrep_max_ws_size) and one
 * statement (one packet, under max_allowed_packet) can carry, derived from the config. Pure: the startup
 * check (server-limits.ts) compares it with what the server says.
 */

/**
 * A job's bytes besides its image in a write set: its jobs row, its images row's key and its upload's
 * Idempotency-Key row with its entry in the stored response, each twice: as the row and as the statement's
 * text (binlog_annotate_row_events, on by default, puts the SQL in the write set; a prepared statement's
 * text has `?` for the image). write-set-bound.test.ts measures the worst: 255-character filenames, the
 * longest keys. Also used for any other row (model files and chunks).
 */
export const ROW_BYTES = 8 * 1024
/** A job's jobs row, or its upload's key row with its one entry, as SQL text (quotes and backslashes escaped). */
export const STATEMENT_BYTES_PER_JOB = 3 * 1024
/** An images row besides its bytes in the binary protocol: the job id, type and length bytes. */
export const IMAGE_PARAM_BYTES = 64
/** A transaction's or statement's own: the jobs.queued event row, SQL text, headers. */
export const FIXED_BYTES = 64 * 1024
/** One class in classes_json: {"id":…,"name":…}, each character at most 7 bytes (\uXXXX, its backslash escaped again in SQL). */
export const LABEL_JSON_BYTES = 2 * LABEL_MAX * 7 + 32
/** wsrep_max_ws_size cannot be set higher. */
export const WSREP_MAX_WS_SIZE_LIMIT = 2_147_483_647

export type WriteSetConfig = Pick<Config, 'maxImageBytes' | 'maxImagesPerRequest' | 'maxModelBytes' | 'maxModelClasses'>

/** One kind of transaction or statement at its largest; `lower`: the settings that make it smaller. */
export interface Part { what: string; bytes: number; lower: string | null }

export interface WriteSetBound {
  /** Every transaction that writes images or model files, at its largest. */
  transactions: Part[]
  statements: Part[]
  /** Images one transaction deletes: in its write set only with binlog_row_image=FULL (a DELETE's full row). */
  deletes: Part
}

export function writeSetBound(c: WriteSetConfig): WriteSetBound {
  // A group of several uploads keeps under the per-commit caps; one upload goes alone whatever its size.
  const jobsPerCommit = Math.max(MAX_JOBS_PER_COMMIT, c.maxImagesPerRequest)
  const chunks = Math.ceil(c.maxModelBytes / CHUNK_BYTES) + MAX_MODEL_FILES
  const purge = Math.max(MAX_COMPLETIONS_PER_COMMIT, PURGE_BATCH)
  return {
    transactions: [
      {
        what: `one upload (MAX_IMAGES_PER_REQUEST=${c.maxImagesPerRequest} images of MAX_IMAGE_BYTES=${c.maxImageBytes})`,
        bytes: c.maxImagesPerRequest * (c.maxImageBytes + ROW_BYTES) + FIXED_BYTES,
        lower: 'MAX_IMAGES_PER_REQUEST or MAX_IMAGE_BYTES',
      },
      { what: 'a group commit of several uploads', bytes: MAX_IMAGE_BYTES_PER_COMMIT + MAX_JOBS_PER_COMMIT * ROW_BYTES + FIXED_BYTES, lower: null },
      {
        // classes_json is in the INSERT's text and row, and the UPDATE's full row before and after: four copies.
        what: `one model upload (MAX_MODEL_BYTES=${c.maxModelBytes}, MAX_MODEL_CLASSES=${c.maxModelClasses})`,
        bytes: c.maxModelBytes + (chunks + MAX_MODEL_FILES + 3) * ROW_BYTES + 4 * c.maxModelClasses * LABEL_JSON_BYTES + FIXED_BYTES,
        lower: 'MAX_MODEL_BYTES or MAX_MODEL_CLASSES',
      },
    ],
    statements: [
      {
        what: `the images INSERT (one image of MAX_IMAGE_BYTES=${c.maxImageBytes}, or several up to ${BYTES_PER_STATEMENT})`,
        bytes: Math.max(c.maxImageBytes + IMAGE_PARAM_BYTES, BYTES_PER_STATEMENT + jobsPerCommit * IMAGE_PARAM_BYTES) + FIXED_BYTES,
        lower: 'MAX_IMAGE_BYTES',
      },
      // All the keys of a commit go in one INSERT; the jobs INSERT takes at most 500 of the same rows.
      { what: `the Idempotency-Key INSERT of a commit of ${jobsPerCommit} jobs`, bytes: jobsPerCommit * STATEMENT_BYTES_PER_JOB + FIXED_BYTES, lower: 'MAX_IMAGES_PER_REQUEST' },
      { what: 'a model file chunk', bytes: CHUNK_BYTES + FIXED_BYTES, lower: null },
    ],
    deletes: {
      what: `a result commit (${MAX_COMPLETIONS_PER_COMMIT} jobs) or a purge (${PURGE_BATCH} dead jobs) deleting images of MAX_IMAGE_BYTES=${c.maxImageBytes}`,
      bytes: purge * (c.maxImageBytes + ROW_BYTES) + FIXED_BYTES,
      lower: 'MAX_IMAGE_BYTES',
    },
  }
}

export const largest = (parts: Part[]): Part => parts.reduce((a, b) => (b.bytes > a.bytes ? b : a))

/** What the server allows; `galera` is null where wsrep_on is not ON. */
export interface ServerLimits {
  maxAllowedPacket: number
  galera: { maxWsSize: number; binlogRowImage: string } | null
}

export interface Verdict { refusals: string[]; warnings: string[] }

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`
const bytes = (n: number) => `${n} bytes (${mib(n)})`
const orLower = (p: Part) => (p.lower ? `, or lower ${p.lower}` : '')

/** Pure: every part the server cannot take is a refusal, with the setting, its value, the value needed and the fix. */
export function judgeServerLimits(bound: WriteSetBound, server: ServerLimits): Verdict {
  const refusals: string[] = []
  for (const s of bound.statements.filter((p) => p.bytes > server.maxAllowedPacket)) {
    refusals.push(`max_allowed_packet is ${bytes(server.maxAllowedPacket)} but ${s.what} can be ${bytes(s.bytes)}. ` +
      `Raise max_allowed_packet on the server (on every node) to at least ${Math.ceil(s.bytes / 1024 / 1024)}M${orLower(s)}.`)
  }
  const warnings: string[] = []
  const g = server.galera
  if (!g) return { refusals, warnings }
  for (const t of bound.transactions.filter((p) => p.bytes > g.maxWsSize)) {
    const fix = t.bytes <= WSREP_MAX_WS_SIZE_LIMIT
      ? `Raise wsrep_max_ws_size on every node to at least ${t.bytes}${orLower(t)}.`
      : `wsrep_max_ws_size cannot be raised that far (at most ${WSREP_MAX_WS_SIZE_LIMIT}): lower ${t.lower ?? 'the limits'}.`
    refusals.push(`wsrep_max_ws_size is ${bytes(g.maxWsSize)} but ${t.what} is one write set of up to ${bytes(t.bytes)}. ${fix}`)
  }
  // Not a refusal: deletes reach this only with many big stored images, and the fix is a node setting.
  if (g.binlogRowImage.toUpperCase() === 'FULL' && bound.deletes.bytes > g.maxWsSize) {
    warnings.push(`binlog_row_image is FULL, so a DELETE replicates the whole row: ${bound.deletes.what} can be a write set of ${bytes(bound.deletes.bytes)}, ` +
      `over wsrep_max_ws_size, ${bytes(g.maxWsSize)}. Set binlog_row_image=NOBLOB on every node (a delete then carries the key only)${orLower(bound.deletes)}.`)
  }
  return { refusals, warnings }
}
