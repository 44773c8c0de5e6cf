import type { ModelDescriptor } from '@hivesight/protocol'

/** Descriptors of model versions, fetched once each (a version never changes, so neither does its descriptor). */
export class ModelCatalog {
  private readonly descriptors = new Map<string, Promise<ModelDescriptor>>()

  constructor(private readonly modelsPath: string) {}

  get(id: string): Promise<ModelDescriptor> {
    let d = this.descriptors.get(id)
    if (!d) {
      d = fetch(`${this.modelsPath}${id}/descriptor.json`).then(async (res) => {
        if (!res.ok) throw new Error(`model version ${id.slice(0, 12)} is unknown to the coordinator (HTTP ${res.status})`)
        const descriptor = (await res.json()) as ModelDescriptor
        if (descriptor.id !== id) throw new Error(`the descriptor of ${id.slice(0, 12)} names ${String(descriptor.id).slice(0, 12)}`)
        return descriptor
      })
      // A failed fetch is tried again by the next job, not remembered.
      d.catch(() => this.descriptors.delete(id))
      this.descriptors.set(id, d)
    }
    return d
  }
}
