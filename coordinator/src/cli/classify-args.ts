import { isAbsolute, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { LABEL_NAME_PATTERN, MODEL_NAME_PATTERN } from '@hivesight/protocol'
import { coordinatorUrl, DEFAULT_URL, UsageError } from './models-args.ts'

// One UsageError class for both commands: coordinatorUrl (shared with `models`) throws it too.
export { DEFAULT_URL, UsageError }
export const DEFAULT_OUT = 'classify-results.csv'
export const DEFAULT_CONCURRENCY = 8
export const MAX_CONCURRENCY = 64

export const CLASSIFY_USAGE = `usage: npm run classify -- PATH... [--model NAME[@VERSION|@LABEL]] [--out FILE.csv|FILE.jsonl]
                            [--concurrency N] [--url URL] [--key KEY]
options: --url URL (else HIVESIGHT_URL, else ${DEFAULT_URL}), --key KEY (else HIVESIGHT_API_KEY), --help

Classifies every image under PATH... (files, and folders walked recursively for .jpg .jpeg .png .webp .gif
.bmp; hidden files skipped; a file named on the command line is sent whatever its extension) on the
coordinator, one job per image, and appends one line per image to --out as soon as its result is known.

--out FILE      where the results go (default ${DEFAULT_OUT}, in the directory you ran the command from);
                .csv: path,job_id,status,model,version,top1_label,top1_score,top5 (json),error
                .jsonl: one JSON object a line with the same fields (top5 as an array)
--model SEL     the model to run (NAME, NAME@VERSION or NAME@LABEL); default: the coordinator's default model
--concurrency N images in flight at once (upload + wait for the result), 1-${MAX_CONCURRENCY}, default ${DEFAULT_CONCURRENCY}

Resume: run the same command again. Images whose last line in --out says "succeeded" (with the same
--model name and version, when named) are skipped; "failed" ones are tried again. Each upload carries an
Idempotency-Key made from the image's bytes, its file name and --model, so an image sent before (also one
whose run was interrupted) gets its earlier job back instead of a new one (the coordinator keeps keys 24 h).
Ctrl-C: no new uploads start, the ones in flight finish and are written; a second Ctrl-C abandons them
(their jobs go on on the coordinator; a re-run picks them up).
Failures: network errors, 408, 409, 429 and 5xx are retried with exponential back-off (Retry-After is
honoured); if they persist the run stops (re-run to resume). Other refusals (415 not an image, 413 too
large, ...) and jobs that end failed, dead or canceled are written as "failed" with the reason; a dead job
is queued again once on a re-run. The coordinator reads JPEG, PNG, WebP and GIF: a .bmp is refused.
Exit status: 0 every image succeeded (or was already done), 1 some failed or the run stopped on an error,
2 usage error, 130 interrupted.

The API key: prefer HIVESIGHT_API_KEY to --key, which other users of the machine can see in the process list.`

export type OutFormat = 'csv' | 'jsonl'

export interface ClassifyOptions {
  /** As given, made absolute against the directory the command was run from. */
  paths: string[]
  /** NAME, NAME@VERSION or NAME@LABEL; null: the coordinator's default model. */
  model: string | null
  out: { path: string; format: OutFormat }
  concurrency: number
  /** Without a trailing slash; may carry a path prefix (a coordinator behind a proxy). */
  url: string
  key: string | null
}

export type ClassifyInvocation = { kind: 'help' } | ({ kind: 'run' } & ClassifyOptions)

const OPTIONS = {
  model: { type: 'string' }, out: { type: 'string' }, concurrency: { type: 'string' },
  url: { type: 'string' }, key: { type: 'string' }, help: { type: 'boolean', short: 'h' },
} as const

const nameRule = new RegExp(MODEL_NAME_PATTERN)
const labelRule = new RegExp(LABEL_NAME_PATTERN)

/** NAME, NAME@VERSION or NAME@LABEL, checked as the coordinator will (so a typo fails here, not per image). */
export function modelSelector(s: string): string {
  const at = s.indexOf('@')
  const name = at < 0 ? s : s.slice(0, at)
  const suffix = at < 0 ? null : s.slice(at + 1)
  if (!nameRule.test(name)) throw new UsageError(`--model "${s}": "${name}" is not a model name (a letter or digit, then letters, digits, ".", "_" or "-"; 64 at most)`)
  if (suffix !== null && !/^[1-9][0-9]{0,14}$/.test(suffix) && !labelRule.test(suffix)) {
    throw new UsageError(`--model "${s}": after @ comes a version number (e.g. @3) or a label (lower-case, e.g. @default)`)
  }
  return s
}

function concurrency(s: string | undefined): number {
  if (s === undefined) return DEFAULT_CONCURRENCY
  const n = Number(s)
  if (!/^[0-9]+$/.test(s) || n < 1 || n > MAX_CONCURRENCY) throw new UsageError(`--concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}, not "${s}"`)
  return n
}

export function outFormat(path: string): OutFormat {
  const lower = path.toLowerCase()
  if (lower.endsWith('.csv')) return 'csv'
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl'
  throw new UsageError(`--out "${path}" must end in .csv or .jsonl (that picks the format)`)
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true })
  } catch (err) {
    // An unknown option or a missing value: node's message names it.
    throw new UsageError(err instanceof Error ? err.message : String(err))
  }
}

/**
 * Pure: argv (without node and the script), the environment and the directory the command was run from
 * (npm runs scripts in the repository root, and says where the user was in INIT_CWD) to what to do.
 */
export function parseClassifyArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}, cwd = '/'): ClassifyInvocation {
  const { values: v, positionals } = parse(argv)
  if (v.help) return { kind: 'help' }
  const url = coordinatorUrl(v.url ?? env.HIVESIGHT_URL ?? DEFAULT_URL)
  const key = (v.key ?? env.HIVESIGHT_API_KEY ?? '').trim() || null
  const base = env.INIT_CWD && isAbsolute(env.INIT_CWD) ? env.INIT_CWD : cwd
  if (positionals.length === 0) throw new UsageError('no PATH given: name image files or folders to classify')
  if (positionals.some((p) => p.trim() === '')) throw new UsageError('an empty PATH was given')
  const outPath = v.out ?? DEFAULT_OUT
  if (outPath.trim() === '') throw new UsageError('--out needs a file name')
  return {
    kind: 'run',
    paths: positionals.map((p) => resolve(base, p)),
    model: v.model === undefined ? null : modelSelector(v.model),
    out: { path: resolve(base, outPath), format: outFormat(outPath) },
    concurrency: concurrency(v.concurrency),
    url,
    key,
  }
}
