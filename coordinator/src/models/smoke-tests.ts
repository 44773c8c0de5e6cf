import type { ModelChecked, ModelDescriptor } from '@hivesight/protocol'
import type { Logger } from '../jobs/logger.ts'
import type { LiveWorker, WorkerRegistry } from '../workers/worker-registry.ts'
import type { ResolvedVersion } from './model-lookup.ts'
import type { ModelRepository, SmokeVerdict } from './model-repository.ts'

const MAX_TRIES = 3

/** Pure: what a page's smoke test says about a version. */
export function smokeVerdict(msg: ModelChecked, descriptor: ModelDescriptor, worker: string): SmokeVerdict {
  const base = { loadMs: msg.loadMs, inferMs: msg.inferMs, worker }
  if (!msg.ok) return { ...base, ok: false, reason: `the worker page could not run it: ${msg.reason ?? 'no reason given'}` }
  if (msg.outputs !== descriptor.outputs) {
    return { ...base, ok: false, reason: `the model produced ${msg.outputs} outputs; its manifest has ${descriptor.outputs} (labels + labelOffset)` }
  }
  return { ...base, ok: true, reason: null }
}

/** Pure: the trusted page to ask (headless runtimes first, then the least busy), skipping those that timed out. */
export function pickChecker(workers: LiveWorker[], tried: ReadonlySet<string>): LiveWorker | undefined {
  return workers
    .filter((w) => w.trust.trusted && !w.draining && !tried.has(w.id))
    .sort((a, b) => Number(b.hello.kind === 'headless') - Number(a.hello.kind === 'headless') || a.inFlight.size - b.inFlight.size)[0]
}

interface Pending { workerId: string; sentAt: number; tried: Set<string> }

/**
 * Smoke tests of new versions on a trusted page of this coordinator: it loads the version (hash-checked)
 * and runs it on zeros; the outputs must be finite and as many as the manifest says. Any coordinator
 * with a trusted page may test a version; the first verdict settles it. A page that does not answer in
 * `timeoutMs` is skipped; after MAX_TRIES pages, the version fails.
 */
export class SmokeTests {
  private readonly pending = new Map<string, Pending>()
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly models: ModelRepository,
    private readonly registry: WorkerRegistry,
    private readonly log: Logger,
    private readonly opts: { timeoutMs: number; intervalMs: number },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.kick().catch((err: unknown) => this.log.warn({ err }, 'could not run model smoke tests')), this.opts.intervalMs)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
  }

  /** Sends each version still validating to a page, and gives up on pages that did not answer. */
  async kick(): Promise<void> {
    const now = performance.now()
    const validating = await this.models.validating()
    // Settled by another coordinator's page, or removed: nothing to wait for (and a late answer is ignored).
    for (const id of this.pending.keys()) if (!validating.some((v) => v.id === id)) this.pending.delete(id)
    for (const v of validating) {
      const p = this.pending.get(v.id)
      if (p && now - p.sentAt < this.opts.timeoutMs && this.registry.get(p.workerId)) continue
      if (p) p.tried.add(p.workerId)
      if (p && p.tried.size >= MAX_TRIES) {
        this.pending.delete(v.id)
        await this.models.settle(v.id, { ok: false, reason: `${MAX_TRIES} worker pages did not finish loading and running it within ${Math.round(this.opts.timeoutMs / 1000)} s`, loadMs: 0, inferMs: 0, worker: p.workerId })
        continue
      }
      this.send(v, p?.tried ?? new Set(), now)
    }
  }

  private send(v: ResolvedVersion, tried: Set<string>, now: number): void {
    const w = pickChecker([...this.registry.all()], tried)
    if (!w) return // No trusted page here now: another coordinator's, or the next one to join, will do it.
    if (w.channel.sendMessage({ type: 'model.check', model: v.id })) this.pending.set(v.id, { workerId: w.id, sentAt: now, tried })
  }

  async checked(workerId: string, msg: ModelChecked): Promise<void> {
    const p = this.pending.get(msg.model)
    if (!p || p.workerId !== workerId) return // Not asked of this page (or already given up on): ignored.
    this.pending.delete(msg.model)
    const v = await this.models.byId(msg.model)
    if (!v) return
    await this.models.settle(v.id, smokeVerdict(msg, v.descriptor, this.registry.get(workerId)?.hello.name ?? workerId))
  }
}
