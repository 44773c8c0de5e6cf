import type { JobView } from '@hivesight/protocol'
import { api } from '../api/client.ts'
import type { StatusFilter } from '../routes.ts'

export type { StatusFilter }
const PAGE = 200

/** What a search matches: the id, the file name or the top label, case-insensitive. */
export function matches(j: JobView, query: string): boolean {
  if (!query) return true
  const q = query.toLowerCase()
  return j.id.includes(q) || (j.filename ?? '').toLowerCase().includes(q) || (j.result?.predictions[0]?.label ?? '').toLowerCase().includes(q)
}

/**
 * Every job this tab knows, newest first (uuid v7 ids sort by submission time), kept up to date by the
 * event stream. Plain structures underneath, one reactive version number bumped at most every 100 ms, so
 * a burst of events over 10 000 jobs costs one re-filter, not one per event.
 */
class JobStore {
  private readonly map = new Map<string, JobView>()
  private order: string[] = []
  private touched: Set<string> | undefined
  private pending: ReturnType<typeof setTimeout> | undefined
  /** Object URLs of the images this tab uploaded: the coordinator deletes its copy when a job finishes. */
  readonly previews = new Map<string, string>()

  version = $state(0)
  filter = $state<StatusFilter>('all')
  query = $state('')
  nextCursor = $state<string | null>(null)
  loading = $state(false)
  error = $state('')

  visible = $derived.by(() => {
    void this.version
    const [f, q] = [this.filter, this.query.trim()]
    if (f === 'all' && !q) return this.order.slice()
    return this.order.filter((id) => {
      const j = this.map.get(id)!
      return (f === 'all' || j.status === f) && matches(j, q)
    })
  })

  counts = $derived.by(() => {
    void this.version
    const c: Record<string, number> = {}
    for (const j of this.map.values()) c[j.status] = (c[j.status] ?? 0) + 1
    return c
  })

  get size(): number {
    return this.map.size
  }

  get(id: string): JobView | undefined {
    return this.map.get(id)
  }

  /** A job's newest state (from the stream, an answer of the API, or an upload). */
  upsert(j: JobView): void {
    this.touched?.add(j.id)
    this.put(j)
    this.bump()
  }

  private put(j: JobView): void {
    if (!this.map.has(j.id)) {
      let [lo, hi] = [0, this.order.length]
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (this.order[mid]! > j.id) lo = mid + 1
        else hi = mid
      }
      this.order.splice(lo, 0, j.id)
    }
    this.map.set(j.id, j)
  }

  private bump(): void {
    this.pending ??= setTimeout(() => {
      this.pending = undefined
      this.version++
    }, 100)
  }

  /** The newest page again (on connect and after a reset); what the stream told meanwhile wins. */
  async reload(): Promise<void> {
    this.map.clear()
    this.order = []
    this.nextCursor = null
    this.version++
    await this.more()
  }

  async more(): Promise<void> {
    if (this.loading) return
    this.loading = true
    this.error = ''
    const touched = (this.touched = new Set())
    try {
      const page = await api.listJobs({ limit: PAGE, cursor: this.nextCursor })
      for (const j of page.jobs) if (!touched.has(j.id)) this.put(j)
      this.nextCursor = page.nextCursor
      this.version++
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err)
    } finally {
      this.touched = undefined
      this.loading = false
    }
  }
}

export const jobs = new JobStore()
