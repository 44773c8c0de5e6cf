import type {
  LABEL_NAME_PATTERN as ProtocolLabelPattern, LabelView, MODEL_NAME_PATTERN as ProtocolNamePattern, ModelRef, ModelVersionState,
  ModelVersionView, ModelView,
} from '@hivesight/protocol'
import type { ProblemItem } from './api/client.ts'

// Copies, not imports: protocol's runtime pulls in the schema compiler. The `typeof` types make a change
// there fail svelte-check here.
export const MODEL_NAME_PATTERN: typeof ProtocolNamePattern = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'
export const LABEL_NAME_PATTERN: typeof ProtocolLabelPattern = '^[a-z][a-z0-9_-]{0,31}$'
export const DEFAULT_LABEL = 'default'

export const VERSION_STATE_WORDS: Record<ModelVersionState, string> = { validating: 'validating', ready: 'ready', failed: 'failed' }

/** A job's model, in either form the API has used: a plain string (older coordinators) or {name, version}. */
export function modelRefText(m: string | ModelRef | null | undefined): string {
  if (!m) return '–'
  return typeof m === 'string' ? m : `${m.name} v${m.version}`
}

// A tiny model would read "0.0 MB", which says nothing.
export const mb = (bytes: number) => (bytes > 0 && bytes < 50_000 ? '<0.1 MB' : `${(bytes / 1_000_000).toFixed(1)} MB`)

export const when = (at: number) => new Date(at).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' })

/** Upload to ready, in seconds; a dash while it is not. */
export function readyAfter(v: Pick<ModelVersionView, 'createdAt' | 'readyAt'>): string {
  return v.readyAt === null ? '–' : `${Math.max(0, Math.round((v.readyAt - v.createdAt) / 1000))} s`
}

export function smokeText(v: Pick<ModelVersionView, 'smoke'>): string {
  return v.smoke ? `${Math.round(v.smoke.loadMs)} / ${Math.round(v.smoke.inferMs)} ms` : '–'
}

/** Why a version failed, as words: a bare code (SMOKE_TIMEOUT) reads "smoke timeout"; a message stays as sent. */
export function failureWords(reason: string | null): string {
  if (!reason) return 'failed, with no reason given'
  return /^[A-Z][A-Z0-9_]*$/.test(reason) ? reason.toLowerCase().replaceAll('_', ' ') : reason
}

/** One line of a refused upload: "weights.bin — shard-size: …". */
export const problemLine = (p: ProblemItem) => `${p.file || '(upload)'} — ${p.rule}: ${p.message}`

export function labelText(l: LabelView, m?: ModelView): string {
  return `${l.label} → v${l.version}${l.canary ? ` (canary v${l.canary.version} at ${l.canary.percent} %${agreementText(m, l.version, l.canary.version)})` : ''}`
}

/** Top-1 agreement of two versions from shadow runs: ", top-1 agrees 93 % of 120", or nothing before any. */
export function agreementText(m: ModelView | undefined, version: number, other: number): string {
  const a = m?.versions.find((v) => v.version === version)?.agreement?.find((x) => x.version === other)
  return a && a.compared > 0 ? `, top-1 agrees ${Math.round((100 * a.agreed) / a.compared)} % of ${a.compared}` : ''
}

/** Labels and canaries pointing at a version: such a version cannot be deleted. */
export function labelsOn(m: ModelView, version: number): string[] {
  return m.labels.flatMap((l) => [
    ...(l.version === version ? [l.label] : []),
    ...(l.canary?.version === version ? [`${l.label} (canary ${l.canary.percent} %)`] : []),
  ])
}
