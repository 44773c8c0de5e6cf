import type { LabelView, ModelVersionView, ModelView, Problem } from '@hivesight/protocol'

// Everything `npm run models` prints, as pure functions of what the API answered.

export type ProblemItem = NonNullable<Problem['problems']>[number]

/** A non-2xx answer, as the problem the coordinator sent (or as much of one as could be read). */
export class HttpProblem extends Error {
  constructor(readonly status: number, readonly code: string, readonly detail: string, readonly problems: ProblemItem[] = []) {
    super(`${detail} (${status} ${code})`)
  }
}

// A tiny model (a test fixture) would read "0.0 MB", which says nothing.
export const mb = (bytes: number) => (bytes > 0 && bytes < 50_000 ? '<0.1 MB' : `${(bytes / 1_000_000).toFixed(1)} MB`)
const ms = (x: number) => `${Math.round(x)} ms`

/** Fixed-width columns, numbers right-aligned; no trailing spaces. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], right: ReadonlySet<number> = new Set()): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]) =>
    widths.map((w, i) => (right.has(i) ? (cells[i] ?? '').padStart(w) : (cells[i] ?? '').padEnd(w))).join('  ').trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

export function labelText(l: LabelView): string {
  return `${l.label} → v${l.version}${l.canary ? ` (canary v${l.canary.version} at ${l.canary.percent} %)` : ''}`
}

/** The labels (and canaries) pointing at a version, for list's LABELS column. */
function labelsOn(m: ModelView, version: number): string {
  return m.labels.flatMap((l) => [
    ...(l.version === version ? [l.label] : []),
    ...(l.canary?.version === version ? [`${l.label}:canary ${l.canary.percent}%`] : []),
  ]).join(',')
}

const readyAfter = (v: ModelVersionView) => (v.readyAt === null ? '–' : `${Math.max(0, Math.round((v.readyAt - v.createdAt) / 1000))} s`)

/** A bare code (SMOKE_TIMEOUT) reads "smoke timeout"; a sentence stays as sent. */
export function failureWords(reason: string | null): string {
  if (!reason) return 'no reason given'
  return /^[A-Z][A-Z0-9_]*$/.test(reason) ? reason.toLowerCase().replaceAll('_', ' ') : reason
}

const HEADER = ['MODEL', 'VERSION', 'STATE', 'LABELS', 'FORMAT', 'CLASSES', 'INPUT', 'SIZE', 'CREATED', 'READY AFTER', 'LOAD/INFER', 'WARM', 'IMG/S']
const RIGHT = new Set([1, 5, 6, 7, 9, 10, 11, 12])

/** `list`: a row per version, newest first within each model, a failure's reason on the line below it. */
export function formatModelList(models: readonly ModelView[]): string {
  if (models.length === 0) return 'no models yet: add one with  npm run models -- add NAME DIR'
  const rows: string[][] = []
  const reasons = new Map<number, string>()
  for (const m of [...models].sort((a, b) => a.name.localeCompare(b.name))) {
    if (m.versions.length === 0) rows.push([m.name, '–', 'no versions', labelsOn(m, -1)])
    for (const v of [...m.versions].sort((a, b) => b.version - a.version)) {
      rows.push([
        m.name, `v${v.version}`, v.state, labelsOn(m, v.version), v.format, String(v.classes), `${v.inputSize}×${v.inputSize}`, mb(v.bytes),
        new Date(v.createdAt).toISOString().slice(0, 16).replace('T', ' '), readyAfter(v),
        v.smoke ? `${ms(v.smoke.loadMs)}/${ms(v.smoke.inferMs)}` : '–', String(v.warmOn.length), v.imagesPerSecond.toFixed(1),
      ])
      if (v.state === 'failed') reasons.set(rows.length - 1, `    └ failed: ${failureWords(v.failureReason)}`)
    }
  }
  // Reasons go between rows, so lay the table out first and splice them in after.
  const lines = table(HEADER, rows, RIGHT).split('\n')
  return lines.flatMap((l, i) => (i > 0 && reasons.has(i - 1) ? [l, reasons.get(i - 1)!] : [l])).join('\n')
}

/** The one line `add` prints for the version it made. */
export function formatAccepted(name: string, v: ModelVersionView, files: number): string {
  return `uploaded ${name} v${v.version}: ${files} file${files === 1 ? '' : 's'}, ${mb(v.bytes)}, ${v.format}, ${v.classes} classes, input ${v.inputSize}×${v.inputSize}; ${v.state}`
}

/** Where a version stands now, for the end of `add --wait`. */
export function formatOutcome(name: string, v: ModelVersionView, label: LabelView | null = null): string {
  if (v.state === 'ready') {
    const smoke = v.smoke ? ` (smoke test on ${v.smoke.worker}: load ${ms(v.smoke.loadMs)}, infer ${ms(v.smoke.inferMs)})` : ''
    return `${name} v${v.version} is ready after ${readyAfter(v)}${smoke}${label ? `; ${labelText(label)}` : ''}`
  }
  if (v.state === 'failed') return `${name} v${v.version} failed: ${failureWords(v.failureReason)}`
  return `${name} v${v.version} is still validating`
}

/** The progress line `add --wait` rewrites while the smoke test runs. */
export function formatProgress(name: string, version: number, elapsedSeconds: number, note = ''): string {
  return `${name} v${version}: validating on a worker… ${Math.round(elapsedSeconds)} s${note ? ` (${note})` : ''}`
}

/** A refused upload: one line per file and rule, as "weights.bin — shard-size: …". */
export function formatProblems(items: readonly ProblemItem[]): string[] {
  return items.map((p) => `  ${p.file || '(upload)'} — ${p.rule}: ${p.message}`)
}

/** A non-2xx answer in words, with what to do about the common ones. */
export function formatHttpProblem(p: HttpProblem): string {
  const head = `${p.detail} (${p.status} ${p.code})`
  if (p.status === 401) return `${head}: pass the API key with --key or HIVESIGHT_API_KEY`
  // Uploads, label moves and removals take an admin key; reading does not.
  if (p.status === 403) return `${head}: this needs an admin key (npm run keys -- create --name NAME --admin)`
  // The detail only summarises the first problem; the list says it all.
  if (p.status === 422 && p.problems.length > 0) return [`refused (${p.status} ${p.code}):`, ...formatProblems(p.problems)].join('\n')
  return head
}

const NET_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused', ENOTFOUND: 'no such host', EAI_AGAIN: 'name lookup failed', ETIMEDOUT: 'connection timed out',
  ECONNRESET: 'connection reset', EHOSTUNREACH: 'host unreachable', ENETUNREACH: 'network unreachable', UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed', DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate', CERT_HAS_EXPIRED: 'certificate expired',
}

/**
 * What fetch threw, when it means the coordinator was not reached (or did not answer in time), in
 * words; null for anything else. Node's fetch throws "fetch failed" with the system error as `cause`.
 */
export function unreachableMessage(err: unknown, url: string): string | null {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `the coordinator at ${url} did not answer in time`
  if (!(err instanceof TypeError) || err.message !== 'fetch failed') return null
  const cause: unknown = err.cause
  const code = cause instanceof Error && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined
  const why = code ? (NET_WORDS[code] ?? code) : (cause instanceof Error ? cause.message : err.message)
  return `cannot reach the coordinator at ${url} (${why}): is it running? Point --url or HIVESIGHT_URL at it`
}
