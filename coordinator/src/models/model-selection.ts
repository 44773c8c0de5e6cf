import { DEFAULT_LABEL, MODEL_SELECTOR_PATTERN } from '@hivesight/protocol'
import type { ResolvedVersion } from './model-lookup.ts'

/** A label as the selection reads it (ids, not numbers: versions are found by id). */
export interface LabelPointer { model: string; label: string; versionId: string; canaryVersionId: string | null; canaryPercent: number }

/** A validating version that takes `label` once ready (asked for at upload, or `default` for a model's first). */
export interface PendingLabel { model: string; label: string; versionId: string }

export interface Catalog {
  versions: ReadonlyMap<string, ResolvedVersion>
  labels: readonly LabelPointer[]
  pending?: readonly PendingLabel[]
}

export type Selection = { ok: true; version: ResolvedVersion } | { ok: false; message: string }

const SELECTOR = new RegExp(MODEL_SELECTOR_PATTERN)

/**
 * Pure: `NAME`, `NAME@VERSION` or `NAME@LABEL` (no selector: the deployment's default model) → one version.
 * A label with a canary sends `canaryPercent` % of draws to the canary (`draw` in [0, 1)). A label no
 * version holds yet is the newest validating version that will take it (the caller says "not ready").
 */
export function selectVersion(catalog: Catalog, selector: string | undefined, defaultModel: string, draw: number): Selection {
  const m = SELECTOR.exec(selector?.trim() || defaultModel)
  if (!m) return { ok: false, message: `"${selector}" is not a model selector: use NAME, NAME@VERSION or NAME@LABEL` }
  const name = m[1]!
  const ref = m[2] ?? DEFAULT_LABEL
  const versions = [...catalog.versions.values()].filter((v) => v.name === name)
  if (versions.length === 0) return { ok: false, message: `no model named ${name}` }
  if (/^\d+$/.test(ref)) {
    const v = versions.find((x) => x.version === Number(ref))
    return v ? { ok: true, version: v } : { ok: false, message: `model ${name} has no version ${ref} (it has ${versions.map((x) => x.version).join(', ')})` }
  }
  const label = catalog.labels.find((l) => l.model === name && l.label === ref)
  // A label still waiting for its version's smoke test names that version, so callers answer "not ready,
  // retry" (503) rather than "no such label" (404) to a client that uploaded a model and used it at once.
  const waiting = label ? undefined : (catalog.pending ?? [])
    .filter((p) => p.model === name && p.label === ref)
    .map((p) => catalog.versions.get(p.versionId))
    .filter((v): v is ResolvedVersion => v?.state === 'validating')
    .sort((a, b) => b.version - a.version)[0]
  if (waiting) return { ok: true, version: waiting }
  if (!label) return { ok: false, message: `model ${name} has no label "${ref}"${ref === DEFAULT_LABEL ? ' (no version of it is ready and labelled so); name a version: ' + name + '@' + versions[versions.length - 1]!.version : ''}` }
  const canary = label.canaryVersionId && draw * 100 < label.canaryPercent ? catalog.versions.get(label.canaryVersionId) : undefined
  const chosen = canary ?? catalog.versions.get(label.versionId)
  return chosen ? { ok: true, version: chosen } : { ok: false, message: `label ${name}@${ref} points at a version that is gone` }
}
