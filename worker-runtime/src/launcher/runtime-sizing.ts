// How many worker pages, and how many wasm threads each, a runtime runs. Pure: the machine's figures come in.

export type Profile = 'throughput' | 'latency'

export interface Machine {
  /** CPU cores this process may use (affinity and cgroup quota applied). */
  cores: number
  /** Memory that can still be used without swapping (MemAvailable, or the cgroup's limit minus usage). */
  availableBytes: number
}

export interface SizingRequest {
  profile: Profile
  /** Explicit choices win over the profile. */
  pages?: number
  threads?: number
  /** Model versions each page keeps warm (--models); sized for one when not said (most fleets serve one). */
  models?: number
}

export interface Sizing {
  pages: number
  threads: number
  /** Why these numbers, in words, for the runtime's first log line. */
  reason: string
  warnings: string[]
}

const MiB = 1024 * 1024
/** PSS of one worker page after hundreds of images (renderer, inference worker, model): 171–178 MiB measured. */
export const PAGE_BYTES = 180 * MiB
/**
 * Whatever the number of pages: Chromium's browser, network, zygote and window-UI processes (~350 MiB)
 * and this runtime on plain node (~120 MiB), measured with 2 pages (README, Workers).
 */
export const BASE_BYTES = 480 * MiB
/** A second MobileNet-sized model held by a page: +27–55 MiB of its PSS (npm run bench -- --only models). */
export const EXTRA_MODEL_BYTES = 55 * MiB

/** What one page is expected to take with `models` versions warm. */
export const pageBytes = (models = 1) => PAGE_BYTES + Math.max(0, models - 1) * EXTRA_MODEL_BYTES

/**
 * Throughput: one single-thread page per core (no thread pool to synchronise; while one page decodes,
 * another predicts). Latency: one page with a thread per core, so a lone image is answered soonest.
 * Never more busy wasm threads than cores (2 pages × 2 threads on 2 cores ran at a third of the speed).
 */
export function sizeRuntime(machine: Machine, req: SizingRequest): Sizing {
  const cores = Math.max(1, Math.floor(machine.cores))
  const perPage = pageBytes(req.models)
  const byMemory = Math.max(1, Math.floor((machine.availableBytes - BASE_BYTES) / perPage))
  const warnings: string[] = []
  let pages: number
  let threads: number
  if (req.pages !== undefined) {
    pages = req.pages
    threads = req.threads ?? Math.max(1, Math.floor(cores / pages))
  } else if (req.threads !== undefined) {
    threads = req.threads
    pages = Math.max(1, Math.min(byMemory, Math.floor(cores / threads)))
  } else if (req.profile === 'latency') {
    pages = 1
    threads = cores
  } else {
    pages = Math.min(cores, byMemory)
    threads = Math.max(1, Math.floor(cores / pages))
  }
  if (pages * threads > cores) warnings.push(`${pages} pages × ${threads} threads is more busy wasm threads than the ${cores} cores: expect far less than the machine can do`)
  if (pages > byMemory) warnings.push(`${pages} pages need about ${Math.round((BASE_BYTES + pages * perPage) / MiB)} MiB; ${Math.round(machine.availableBytes / MiB)} MiB are available`)
  const why = req.pages !== undefined || req.threads !== undefined
    ? 'as asked'
    : req.profile === 'latency'
      ? `latency profile: one page with a thread per core (${cores})`
      : `throughput profile: one page per core (${cores})${byMemory < cores ? `, capped by memory to ${byMemory}` : ''}`
  return { pages, threads, reason: `${pages} page${pages > 1 ? 's' : ''} × ${threads} thread${threads > 1 ? 's' : ''} (${why})`, warnings }
}

/** Capped exponential back-off between Chromium launches; `failures` resets once a browser stayed up a while. */
export function relaunchDelay(failures: number): number {
  return Math.min(10_000, 500 * 2 ** Math.min(failures, 10))
}
