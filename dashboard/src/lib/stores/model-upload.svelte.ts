import type { ModelVersionView } from '@hivesight/protocol'
import { api, ApiError, uploadModel, type ProblemItem } from '../api/client.ts'
import { errorText, models } from './models.svelte.ts'

const POLL_MS = 2000

export type UploadPhase = 'idle' | 'sending' | 'refused' | 'validating' | 'ready' | 'failed' | 'error'

/**
 * The model upload in progress. A store, not the form's state: the smoke test can take a while and
 * its outcome should still be there after a look at another screen.
 */
class ModelUpload {
  phase = $state<UploadPhase>('idle')
  progress = $state(0)
  name = $state('')
  label = $state<string | null>(null)
  version = $state<ModelVersionView | null>(null)
  message = $state('')
  problems = $state<ProblemItem[]>([])
  /** When the coordinator accepted it: the smoke test's elapsed time counts from here. */
  acceptedAt = $state(0)
  private abort: (() => void) | null = null
  private timer: ReturnType<typeof setTimeout> | undefined
  /** Bumped by reset: an answer for an upload that was reset (or replaced) meanwhile is dropped. */
  private generation = 0

  get busy(): boolean {
    return this.phase === 'sending' || this.phase === 'validating'
  }

  async send(name: string, files: readonly File[], label: string | null): Promise<void> {
    this.reset()
    const generation = this.generation
    this.phase = 'sending'
    this.name = name
    this.label = label
    const up = uploadModel(name, files, label, (f) => { this.progress = f })
    this.abort = up.abort
    try {
      const v = await up.done
      if (generation !== this.generation) return
      this.version = v
      this.acceptedAt = Date.now()
      this.phase = v.state
      if (v.state === 'validating') this.schedule()
    } catch (e) {
      if (generation !== this.generation) return
      this.phase = e instanceof ApiError && e.problems.length > 0 ? 'refused' : 'error'
      this.message = e instanceof ApiError && e.status > 0 ? `${e.message} (${e.status} ${e.code})` : errorText(e)
      this.problems = e instanceof ApiError ? e.problems : []
    } finally {
      if (generation === this.generation) this.abort = null
    }
  }

  /** Stops sending, or stops watching a version that is validating (it keeps validating on the server). */
  reset(): void {
    this.generation++
    this.abort?.()
    clearTimeout(this.timer)
    this.phase = 'idle'
    this.progress = 0
    this.version = null
    this.message = ''
    this.problems = []
    this.acceptedAt = 0
  }

  private schedule(): void {
    this.timer = setTimeout(() => void this.poll(), POLL_MS)
  }

  private async poll(): Promise<void> {
    const v = this.version
    const generation = this.generation
    if (this.phase !== 'validating' || !v) return
    try {
      const m = await api.model(this.name)
      models.upsert(m)
      if (generation !== this.generation) return
      const now = m.versions.find((x) => x.version === v.version)
      if (!now) {
        this.phase = 'error'
        this.message = `v${v.version} is no longer listed: was it deleted?`
        return
      }
      this.version = now
      this.message = ''
      if (now.state !== 'validating') {
        this.phase = now.state
        return
      }
    } catch (e) {
      if (generation !== this.generation) return
      // Keep watching through a blip; say so meanwhile.
      this.message = `Could not ask about it: ${errorText(e)}; trying again.`
    }
    this.schedule()
  }
}

export const modelUpload = new ModelUpload()
