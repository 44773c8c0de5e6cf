import type { WorkerRegistry } from '../workers/worker-registry.ts'
import type { ModelRepository } from './model-repository.ts'

/**
 * When a label moves, the version it points at gets traffic at once: each trusted page here is asked to
 * load it now (a model.check, whose answer nobody waits for) instead of at its first job. Asked once per
 * page and version; a page that has it already is skipped.
 */
export class Prewarm {
  private readonly asked = new Set<string>()

  constructor(private readonly models: ModelRepository, private readonly registry: WorkerRegistry) {}

  /** Labelled, ready versions to every trusted page that does not hold them. */
  run(): number {
    let sent = 0
    const wanted = this.models.labelledReady()
    const live = [...this.registry.all()]
    // Pages that left are forgotten, so the set stays as small as the fleet (worker ids are per connection).
    const here = new Set(live.map((w) => w.id))
    for (const key of this.asked) if (!here.has(key.slice(0, key.indexOf(' ')))) this.asked.delete(key)
    for (const w of live) {
      // A worker that never said what it holds is not a page that loads versions on request.
      if (!w.trust.trusted || w.draining || !w.models) continue
      for (const id of wanted) {
        const key = `${w.id} ${id}`
        if (w.models.has(id) || this.asked.has(key)) continue
        if (w.channel.sendMessage({ type: 'model.check', model: id })) sent++
        this.asked.add(key)
      }
    }
    return sent
  }
}
