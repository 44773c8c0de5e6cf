import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { NUM_CLASSES, type ClassScore, type Prediction } from '@hivesight/protocol'

interface LabelEntry { index: number; wnid: string | null; name: string }

/**
 * The model the workers load, as the coordinator serves it. The URL carries a hash of model.json, so the
 * files can be cached forever and a new model never meets a stale cache.
 */
export class ModelFiles {
  readonly name: string
  readonly version: string
  readonly urlPrefix: string
  private readonly labels: LabelEntry[]

  constructor(readonly dir: string) {
    this.name = basename(dir)
    this.version = createHash('sha256').update(readFileSync(join(dir, 'model.json'))).digest('hex').slice(0, 12)
    this.urlPrefix = `/models/${this.name}-${this.version}/`
    const labels = JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8')) as LabelEntry[]
    if (!Array.isArray(labels) || labels.length !== NUM_CLASSES) {
      throw new Error(`${join(dir, 'labels.json')} must list ${NUM_CLASSES} classes (index 0 = background)`)
    }
    this.labels = labels
  }

  get modelUrl(): string {
    return `${this.urlPrefix}model.json`
  }

  /** Class indices from a worker → the predictions a user sees. */
  toPredictions(top: ClassScore[]): Prediction[] {
    return top.map(({ index, score }) => {
      const entry = this.labels[index]
      return { wnid: entry?.wnid ?? `class-${index}`, label: entry?.name ?? `class ${index}`, score }
    })
  }
}
