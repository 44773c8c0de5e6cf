import { DEFAULT_LABEL, type ClassScore, type LabelMove, type ModelDescriptor, type ModelRef, type ModelView, type Prediction } from '@hivesight/protocol'
import { durably, isUniqueViolation, type Db } from '../db/create-db.ts'
import * as repo from '../db/model.repository.ts'
import type { ModelVersionRow } from '../db/schema.ts'
import { AppError } from '../errors/app-errors.ts'
import type { Clock } from '../jobs/clock.ts'
import type { ClusterSignals } from '../jobs/cluster-signals.ts'
import type { Labeller } from '../jobs/job-view.ts'
import type { Logger } from '../jobs/logger.ts'
import { descriptorOf, versionId, type VersionContent } from './model-identity.ts'
import { ModelFileCache } from './model-file-cache.ts'
import { sameClass, shadowFor } from './shadow-runs.ts'
import type { ClassLabel, ModelLookup, ResolvedVersion } from './model-lookup.ts'
import { selectVersion, type Catalog, type LabelPointer } from './model-selection.ts'

/** What this coordinator sees of a version's use (its workers, its answers). */
export type VersionUsage = (versionId: string) => { warmOn: string[]; imagesPerSecond: number; agreement: { other: string; agreed: number; compared: number }[] }

/** A version leaves `validating` with this (the smoke test's verdict). */
export interface SmokeVerdict { ok: boolean; reason: string | null; loadMs: number; inferMs: number; worker: string }

// A peer's label move reaches us by signal; this bounds how long a lost signal could keep an old label.
const STALE_MS = 2_000

/** label_on_ready of a model's first upload: `default` only if no other version has taken it meanwhile. */
const FIRST_DEFAULT = '=default'
const labelAsked = (stored: string) => (stored === FIRST_DEFAULT ? DEFAULT_LABEL : stored)

function resolved(row: ModelVersionRow): ResolvedVersion {
  return {
    id: row.id, name: row.model_name, version: Number(row.version), state: row.state, failureReason: row.failure_reason,
    descriptor: JSON.parse(row.descriptor_json) as ModelDescriptor, classes: JSON.parse(row.classes_json) as ClassLabel[],
  }
}

/**
 * MariaDB compares names without case (its default collation), SQLite with: `Flowers` beside `flowers`
 * would be one model's rows there (its numbers, its labels) and two models here. Refused on both.
 */
function refuseCaseTwin(catalog: Catalog, name: string): void {
  const twin = [...catalog.versions.values()].find((v) => v.name !== name && v.name.toLowerCase() === name.toLowerCase())
  if (twin) throw new AppError('MODEL_EXISTS', `a model named ${twin.name} exists; names differing only in case are one model: upload to ${twin.name}, or choose another name`)
}

/**
 * The model repository: versions, labels and files in the shared database, read through a small cache
 * (versions are immutable but for their state; labels are re-read on a peer's signal or after STALE_MS).
 */
export class ModelRepository implements ModelLookup, Labeller {
  private catalog: Catalog = { versions: new Map(), labels: [] }
  private rows = new Map<string, ModelVersionRow>()
  private loadedAt = -Infinity
  private loading: Promise<void> | undefined
  private readonly files = new ModelFileCache()
  /** Called when a version settles or a label moves (dispatch, smoke tests and caches react). */
  onChange: (versionId: string) => void = () => undefined

  constructor(
    private readonly db: Db,
    private readonly signals: ClusterSignals,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: { defaultModel: string; random?: () => number; usage?: VersionUsage; shadowShare?: number },
  ) {}

  /** Reads the catalogue again now (a peer changed it). */
  refresh(): Promise<void> {
    this.loading ??= (async () => {
      const [versions, labels] = await Promise.all([repo.listVersions(this.db.kysely), repo.listLabels(this.db.kysely)])
      this.rows = new Map(versions.map((v) => [v.id, v]))
      this.catalog = {
        versions: new Map(versions.map((v) => [v.id, resolved(v)])),
        labels: labels.map((l): LabelPointer => ({ model: l.model_name, label: l.label, versionId: l.version_id, canaryVersionId: l.canary_version_id, canaryPercent: Number(l.canary_percent) })),
        pending: versions.flatMap((v) => (v.state === 'validating' && v.label_on_ready ? [{ model: v.model_name, label: labelAsked(v.label_on_ready), versionId: v.id }] : [])),
      }
      this.files.keepOnly((id) => this.catalog.versions.has(id))
      this.loadedAt = performance.now()
    })().finally(() => {
      this.loading = undefined
    })
    return this.loading
  }

  private async fresh(): Promise<Catalog> {
    if (performance.now() - this.loadedAt > STALE_MS) await this.refresh()
    return this.catalog
  }

  async find(selector?: string): Promise<ResolvedVersion> {
    const picked = selectVersion(await this.fresh(), selector, this.opts.defaultModel, (this.opts.random ?? Math.random)())
    if (!picked.ok) throw new AppError('MODEL_NOT_FOUND', picked.message)
    return picked.version
  }

  /** A version by id, from the cache (every version a job names was read with the catalogue, or is read now). */
  async byId(id: string): Promise<ResolvedVersion | undefined> {
    if (!this.catalog.versions.has(id)) await this.refresh()
    return this.catalog.versions.get(id)
  }

  /** Synchronous, for labelling results: undefined only for a version this coordinator has not read yet. */
  cached(id: string): ResolvedVersion | undefined {
    return this.catalog.versions.get(id)
  }

  /** Reads the catalogue again if any of these versions is not known here yet (a peer's new upload). */
  async prime(ids: (string | null)[]): Promise<void> {
    if (ids.some((id) => id !== null && !this.catalog.versions.has(id))) await this.refresh()
  }

  predictions(versionId: string, top: ClassScore[]): Prediction[] {
    const v = this.catalog.versions.get(versionId)
    const offset = v?.descriptor.labelOffset ?? 0
    return top.map(({ index, score }) => {
      const c = v?.classes[index - offset]
      return { wnid: c?.id ?? `class-${index}`, label: c?.name ?? `class ${index}`, score }
    })
  }

  ref(versionId: string): ModelRef | null {
    const v = this.catalog.versions.get(versionId)
    return v ? { name: v.name, version: v.version } : null
  }

  /** The version a job of this one should also run on (a shadow run while a label splits traffic), if any. */
  shadowFor(versionId: string): string | undefined {
    return shadowFor(this.catalog, versionId, (this.opts.random ?? Math.random)(), this.opts.shadowShare)
  }

  /** Whether two versions' top-1 answers are the same class. */
  sameClass(a: { version: string; index: number }, b: { version: string; index: number }): boolean | undefined {
    return sameClass(this.catalog, a, b)
  }

  /** Ready versions as last read (synchronous, for dispatch). */
  readyVersions(): ResolvedVersion[] {
    return [...this.catalog.versions.values()].filter((v) => v.state === 'ready')
  }

  /** Ready versions some label points at (they take traffic; pages should hold them). */
  labelledReady(): string[] {
    const ids = new Set(this.catalog.labels.flatMap((l) => (l.canaryVersionId ? [l.versionId, l.canaryVersionId] : [l.versionId])))
    return [...ids].filter((id) => this.catalog.versions.get(id)?.state === 'ready')
  }

  /** Versions still waiting for their smoke test. */
  async validating(): Promise<ResolvedVersion[]> {
    return [...(await this.fresh()).versions.values()].filter((v) => v.state === 'validating')
  }

  async list(): Promise<ModelView[]> {
    const catalog = await this.fresh()
    const names = [...new Set([...catalog.versions.values()].map((v) => v.name))].sort()
    return names.map((n) => this.viewOf(n, catalog))
  }

  async view(name: string): Promise<ModelView> {
    const catalog = await this.fresh()
    if (![...catalog.versions.values()].some((v) => v.name === name)) throw new AppError('MODEL_NOT_FOUND', `no model named ${name}`)
    return this.viewOf(name, catalog)
  }

  private viewOf(name: string, catalog: Catalog): ModelView {
    const versions = [...catalog.versions.values()].filter((v) => v.name === name).sort((a, b) => a.version - b.version)
    const number = (id: string | null) => (id ? catalog.versions.get(id)?.version ?? 0 : 0)
    return {
      name,
      labels: catalog.labels.filter((l) => l.model === name).map((l) => ({
        label: l.label, version: number(l.versionId),
        canary: l.canaryVersionId ? { version: number(l.canaryVersionId), percent: l.canaryPercent } : null,
      })),
      versions: versions.map((v) => {
        const row = this.rows.get(v.id)!
        const { agreement, ...usage } = this.opts.usage?.(v.id) ?? { warmOn: [], imagesPerSecond: 0, agreement: [] }
        return {
          id: v.id, version: v.version, state: v.state, failureReason: v.failureReason, format: v.descriptor.format,
          classes: v.classes.length, inputSize: v.descriptor.preprocessing.inputSize, bytes: Number(row.byte_size),
          createdAt: Number(row.created_at), readyAt: row.ready_at === null ? null : Number(row.ready_at),
          smoke: row.smoke_json ? (JSON.parse(row.smoke_json) as { loadMs: number; inferMs: number; worker: string }) : null,
          ...usage,
          agreement: agreement.map((a) => ({ version: number(a.other), agreed: a.agreed, compared: a.compared })),
        }
      }),
    }
  }

  /**
   * Stores a validated upload as the model's next version, `validating` until a trusted page has run it.
   * `labelOnReady` is pointed at it once ready; a model's first version gets `default` (nothing to displace).
   */
  async add(name: string, content: VersionContent, opts: { labelOnReady?: string; state?: 'validating' | 'ready' } = {}): Promise<ResolvedVersion> {
    const id = versionId(content)
    const existing = await this.byId(id)
    if (existing) throw new AppError('MODEL_EXISTS', `this upload is already ${existing.name} version ${existing.version} (same manifest and weights)`)
    const now = this.clock.now()
    const catalog = await this.fresh()
    refuseCaseTwin(catalog, name)
    const hasDefault = catalog.labels.some((l) => l.model === name && l.label === DEFAULT_LABEL)
    const label = opts.labelOnReady ?? (hasDefault ? null : FIRST_DEFAULT)
    for (let tries = 0; ; tries++) {
      try {
        await durably(this.db, async (trx) => {
          // The number is known only inside the transaction; the descriptor is written with a placeholder first.
          const version = await repo.insertVersion(trx, {
            id, model_name: name, state: opts.state ?? 'validating', failure_reason: null, descriptor_json: '{}',
            classes_json: JSON.stringify(content.manifest.labels), byte_size: content.files.reduce((n, f) => n + f.bytes.length, 0),
            created_at: now, ready_at: opts.state === 'ready' ? now : null, smoke_json: null, label_on_ready: label,
          }, content.files)
          await trx.updateTable('model_versions').set({ descriptor_json: JSON.stringify(descriptorOf(content, id, name, version)) }).where('id', '=', id).execute()
          if (opts.state === 'ready' && label) await repo.setLabel(trx, { model_name: name, label: labelAsked(label), version_id: id, canary_version_id: null, canary_percent: 0, updated_at: now })
        })
        break
      } catch (err) {
        // Two uploads of one model at once took the same number: the later one takes the next.
        if (!isUniqueViolation(err) || tries >= 3) throw err
        if (await this.byId(id)) throw new AppError('MODEL_EXISTS', `this upload was just stored by another request`)
        refuseCaseTwin(this.catalog, name)
      }
    }
    await this.changed(id)
    return (await this.byId(id))!
  }

  /** The smoke test's verdict; a ready version's pending label moves to it. */
  async settle(id: string, verdict: SmokeVerdict): Promise<boolean> {
    const now = this.clock.now()
    const smokeJson = JSON.stringify({ loadMs: Math.round(verdict.loadMs), inferMs: Math.round(verdict.inferMs * 10) / 10, worker: verdict.worker })
    const settled = await durably(this.db, async (trx) => {
      if (!(await repo.settleVersion(trx, id, { state: verdict.ok ? 'ready' : 'failed', reason: verdict.ok ? null : verdict.reason, smokeJson, now }))) return false
      const row = await repo.findVersion(trx, id)
      if (!verdict.ok || !row) return true
      const point = (label: string) => repo.setLabel(trx, { model_name: row.model_name, label, version_id: id, canary_version_id: null, canary_percent: 0, updated_at: now })
      if (row.label_on_ready && row.label_on_ready !== FIRST_DEFAULT) await point(row.label_on_ready)
      // A model's first ready version is its default, whatever else it was labelled; a later one never takes it by itself
      // (two first uploads validating at once: the first to be ready gets it).
      const labels = await repo.listLabels(trx)
      if (!labels.some((l) => l.model_name === row.model_name && l.label === DEFAULT_LABEL)) await point(DEFAULT_LABEL)
      return true
    })
    if (settled) {
      this.log.info({ versionId: id, ok: verdict.ok, reason: verdict.reason }, verdict.ok ? 'model version ready' : 'model version failed its smoke test')
      await this.changed(id)
    }
    return settled
  }

  /** Points a label at a ready version (and optionally a canary share at another). Rollback is the same call. */
  async moveLabel(name: string, label: string, move: LabelMove): Promise<ModelView> {
    const catalog = await this.fresh()
    const of = (n: number) => {
      const v = [...catalog.versions.values()].find((x) => x.name === name && x.version === n)
      if (!v) throw new AppError('MODEL_NOT_FOUND', `model ${name} has no version ${n}`)
      if (v.state !== 'ready') throw new AppError('VERSION_NOT_READY', `${name} version ${n} is ${v.state}${v.failureReason ? ` (${v.failureReason})` : ''}; only a ready version can take traffic`)
      return v
    }
    const target = of(move.version)
    const canary = move.canary ? of(move.canary.version) : undefined
    await repo.setLabel(this.db.kysely, {
      model_name: name, label, version_id: target.id, canary_version_id: canary?.id ?? null, canary_percent: canary ? move.canary!.percent : 0, updated_at: this.clock.now(),
    })
    await this.changed(target.id)
    return this.view(name)
  }

  async removeLabel(name: string, label: string): Promise<ModelView> {
    if (!(await repo.deleteLabel(this.db.kysely, name, label))) throw new AppError('MODEL_NOT_FOUND', `model ${name} has no label "${label}"`)
    await this.changed('')
    return this.view(name)
  }

  /** Removes a version no label points at and no unfinished job waits for. */
  async removeVersion(name: string, version: number): Promise<void> {
    const catalog = await this.fresh()
    const v = [...catalog.versions.values()].find((x) => x.name === name && x.version === version)
    if (!v) throw new AppError('MODEL_NOT_FOUND', `model ${name} has no version ${version}`)
    const labelled = catalog.labels.filter((l) => l.versionId === v.id || l.canaryVersionId === v.id).map((l) => l.label)
    if (labelled.length > 0) throw new AppError('MODEL_IN_USE', `${name} version ${version} is what ${labelled.map((l) => `"${l}"`).join(', ')} points at; move the label first`)
    const waiting = await repo.countUnfinishedJobs(this.db.kysely, v.id)
    if (waiting > 0) throw new AppError('MODEL_IN_USE', `${waiting} unfinished job(s) run on ${name} version ${version}; remove it once they are done`)
    await durably(this.db, (trx) => repo.deleteVersion(trx, v.id))
    await this.changed(v.id)
  }

  /** One file of a version, for worker pages (cached: every page of the cluster loads the same files). */
  async file(id: string, path: string): Promise<{ sha256: string; bytes: Buffer } | undefined> {
    const hit = this.files.get(id, path)
    if (hit) return hit
    const f = await repo.readFile(this.db.kysely, id, path)
    if (f) this.files.put(id, path, f)
    return f
  }

  private async changed(versionId: string): Promise<void> {
    await this.refresh()
    await this.signals.publish({ kind: 'models.changed', versionId }, this.clock.now())
    this.onChange(versionId)
  }
}
