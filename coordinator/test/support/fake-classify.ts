import { randomUUID } from 'node:crypto'
import type { ModelView, Prediction } from '@hivesight/protocol'
import { AppError } from '../../src/errors/app-errors.ts'
import type { ClassifiedJob, ClassifyJobs } from '../../src/http/compat-common.ts'
import type { Scope, UploadedImage } from '../../src/jobs/job-service.ts'
import type { ClassLabel, ModelLookup, ResolvedVersion } from '../../src/models/model-lookup.ts'

// Neighbours for the HF and OIP plugin tests: a model repository and a job service that answer at once.

const IMAGENET: ClassLabel[] = [
  { id: 'n01440764', name: 'tench' }, { id: 'n02123045', name: 'tabby' }, { id: 'n02123159', name: 'tiger cat' },
  { id: 'n02124075', name: 'Egyptian cat' }, { id: 'n02127052', name: 'lynx' }, { id: 'n04040759', name: 'radiator' },
]

function version(name: string, v: number, state: ResolvedVersion['state'], classes: ClassLabel[]): ResolvedVersion {
  const id = `${name}-${v}`.padEnd(64, '0').replace(/[^0-9a-f]/g, 'a').slice(0, 64)
  return {
    id, name, version: v, state, failureReason: null, classes,
    descriptor: {
      id, name, version: v, format: 'graph', files: [], outputs: classes.length + 1, labelOffset: 1, softmax: false,
      preprocessing: { inputSize: 224, channels: 3, resize: 'shorter-side-then-centre-crop', resizeShorterTo: 256, mean: [0, 0, 0], std: [1, 1, 1] },
    },
  }
}

/**
 * mobilenet: versions 1 and 2 ready, the default label at 2 (version 1 lists its classes in another order);
 * flowers: version 1 still validating. The default model is mobilenet.
 */
export class FakeModels implements ModelLookup {
  readonly versions = [
    version('mobilenet', 1, 'ready', [...IMAGENET].reverse()),
    version('mobilenet', 2, 'ready', IMAGENET),
    version('flowers', 1, 'validating', [{ id: 'rose', name: 'rose' }, { id: 'tulip', name: 'tulip' }]),
  ]
  readonly labels: Record<string, Record<string, number>> = { mobilenet: { default: 2 }, flowers: { default: 1 } }

  async find(selector = 'mobilenet'): Promise<ResolvedVersion> {
    const [name = '', tag = 'default'] = selector.split('@', 2)
    const number = /^\d+$/.test(tag) ? Number(tag) : this.labels[name]?.[tag]
    const found = this.versions.find((v) => v.name === name && v.version === number)
    if (!found) throw new AppError('MODEL_NOT_FOUND', `no model ${selector}`)
    return found
  }

  async list(): Promise<ModelView[]> {
    return Object.keys(this.labels).map((name) => ({
      name,
      labels: Object.entries(this.labels[name]!).map(([label, v]) => ({ label, version: v, canary: null })),
      versions: this.versions.filter((v) => v.name === name).map((v) => ({
        id: v.id, version: v.version, state: v.state, failureReason: null, format: 'graph' as const, classes: v.classes.length, inputSize: 224,
        bytes: 1, createdAt: 1, readyAt: v.state === 'ready' ? 2 : null, smoke: null, warmOn: [], imagesPerSecond: 0, agreement: [],
      })),
    }))
  }
}

/** Top 5 of a version's classes with fixed scores, best first. */
export function predictionsOf(v: ResolvedVersion): Prediction[] {
  const byName = (n: string) => v.classes.find((c) => c.name === n)!
  return [['tabby', 0.62], ['tiger cat', 0.2], ['Egyptian cat', 0.1], ['lynx', 0.05], ['tench', 0.01]]
    .filter(([n]) => v.classes.some((c) => c.name === n))
    .map(([n, score]) => ({ wnid: byName(String(n)).id, label: String(n), score: Number(score) }))
}

export interface Submitted {
  images: UploadedImage[]
  owner: string | null
  model?: string
  volunteersAllowed?: boolean
}

/**
 * Submits like JobService (the model resolved first: 404, 503 for a version still validating) and answers
 * every wait with `outcome` (by default: succeeded on the version it was submitted for).
 */
export class FakeJobs implements ClassifyJobs {
  readonly submitted: Submitted[] = []
  readonly waits: { id: string; scope: Scope; waitMs: number }[] = []
  private readonly jobs = new Map<string, ResolvedVersion>()
  outcome: (id: string, v: ResolvedVersion, waitsForIt: number) => ClassifiedJob = (id, v) => succeeded(id, v)

  constructor(private readonly models: ModelLookup) {}

  async submit(req: Submitted): Promise<{ response: { jobs: { id: string; status: 'queued'; filename: string | null; url: string }[] }; replayed: boolean }> {
    const v = await this.models.find(req.model)
    if (v.state !== 'ready') throw new AppError('MODEL_NOT_READY', `${v.name} version ${v.version} is still being validated`, { retryAfter: 5 })
    this.submitted.push(req)
    const jobs = req.images.map(() => {
      const id = randomUUID()
      this.jobs.set(id, v)
      return { id, status: 'queued' as const, filename: null, url: `/api/v1/jobs/${id}` }
    })
    return { response: { jobs }, replayed: false }
  }

  async getWhenFinished(id: string, scope: Scope, waitMs: number): Promise<ClassifiedJob> {
    const v = this.jobs.get(id)
    if (!v) throw new AppError('JOB_NOT_FOUND', `no job with id ${id}`)
    this.waits.push({ id, scope, waitMs })
    return this.outcome(id, v, this.waits.filter((w) => w.id === id).length)
  }
}

export const succeeded = (id: string, v: ResolvedVersion): ClassifiedJob => ({
  id, status: 'succeeded', error: null, result: { predictions: predictionsOf(v), model: { name: v.name, version: v.version }, decodeMs: 1, inferMs: 2 },
})
export const queued = (id: string): ClassifiedJob => ({ id, status: 'queued', result: null, error: null })
export const failed = (id: string, code: string, status: ClassifiedJob['status'] = 'failed'): ClassifiedJob => ({
  id, status, result: null, error: { code, message: `${code.toLowerCase()} on the worker` },
})
