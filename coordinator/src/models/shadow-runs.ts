import type { Catalog } from './model-selection.ts'

/** Share of a split label's jobs also run on the other version. */
export const SHADOW_SHARE = 0.1

/**
 * Pure: the version a job of `versionId` should also run on, if any. Only while a label splits traffic
 * between it and another ready version of the same model that prepares its input alike (the page reuses
 * the input), and only for a `share` of draws: enough to measure agreement, not to double the work.
 */
export function shadowFor(catalog: Catalog, versionId: string, draw: number, share = SHADOW_SHARE): string | undefined {
  if (draw >= share) return undefined
  const label = catalog.labels.find((l) => l.canaryVersionId && l.canaryPercent > 0 && (l.versionId === versionId || l.canaryVersionId === versionId))
  if (!label) return undefined
  const other = label.versionId === versionId ? label.canaryVersionId! : label.versionId
  const a = catalog.versions.get(versionId)
  const b = catalog.versions.get(other)
  if (!a || !b || b.state !== 'ready' || other === versionId) return undefined
  return JSON.stringify(a.descriptor.preprocessing) === JSON.stringify(b.descriptor.preprocessing) ? other : undefined
}

/** Pure: whether two versions' top-1 answers name the same class (by class id: a renamed class is another answer). */
export function sameClass(catalog: Catalog, a: { version: string; index: number }, b: { version: string; index: number }): boolean | undefined {
  const va = catalog.versions.get(a.version)
  const vb = catalog.versions.get(b.version)
  if (!va || !vb) return undefined
  const ca = va.classes[a.index - va.descriptor.labelOffset]
  const cb = vb.classes[b.index - vb.descriptor.labelOffset]
  return ca !== undefined && cb !== undefined ? ca.id === cb.id : undefined
}
