import type { ModelView } from '@hivesight/protocol'
import { api } from '../api/client.ts'

const REFRESH_MS = 5000

export const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e))

/** The model repository as last read. Models are not on the event stream, so the screen polls. */
class Models {
  list = $state<ModelView[]>([])
  error = $state('')
  loaded = $state(false)
  private inFlight = false

  async refresh(): Promise<void> {
    // A slow coordinator must not pile up requests, one per tick.
    if (this.inFlight) return
    this.inFlight = true
    try {
      this.list = (await api.models()).models
      this.error = ''
      this.loaded = true
    } catch (e) {
      this.error = `Could not read the models: ${errorText(e)}`
    } finally {
      this.inFlight = false
    }
  }

  /** Reads now and every 5 s until the returned stop function runs (the screen's $effect cleanup). */
  watch(): () => void {
    void this.refresh()
    // A background tab shows nothing: skip its ticks.
    const t = setInterval(() => { if (!document.hidden) void this.refresh() }, REFRESH_MS)
    return () => clearInterval(t)
  }

  /** An answer that carries a whole model (a label move, an upload poll) replaces it at once. */
  upsert(m: ModelView): void {
    const i = this.list.findIndex((x) => x.name === m.name)
    if (i >= 0) this.list[i] = m
    else this.list = [...this.list, m].sort((a, b) => a.name.localeCompare(b.name))
  }
}

export const models = new Models()
