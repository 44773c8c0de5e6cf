import type { JobView } from '@hivesight/protocol'

export function ms(x: number | null | undefined): string {
  if (x === null || x === undefined) return '–'
  return x < 1000 ? `${Math.round(x)} ms` : `${(x / 1000).toFixed(1)} s`
}

export function ago(at: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - at) / 1000))
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  return `${Math.floor(s / 3600)} h ago`
}

export const pct = (score: number) => `${(score * 100).toFixed(1)} %`

/** The top label without its synonyms ("tabby, tabby cat" → "tabby"). */
export const shortLabel = (label: string) => label.split(',')[0]!.trim()

/** Errors in words a person can act on; the code stays visible for a bug report. */
const PLAIN: Record<string, string> = {
  IMAGE_DECODE_FAILED: 'The worker\'s browser could not read this image: the file is probably damaged or cut short. Try another copy of it.',
  IMAGE_MISSING: 'The image was no longer stored when a worker asked for it.',
  INFERENCE_FAILED: 'The model failed on this image on every attempt.',
  ATTEMPTS_EXHAUSTED: 'Every attempt was lost: the workers running it went away or took too long. Retry it when workers are steady.',
}

export function plainError(j: JobView): string | null {
  if (!j.error) return null
  return PLAIN[j.error.code] ?? j.error.message
}

export const STATUS_WORDS: Record<JobView['status'], string> = {
  queued: 'queued', running: 'running', succeeded: 'succeeded', failed: 'failed', canceled: 'canceled', dead: 'dead (gave up)',
}
