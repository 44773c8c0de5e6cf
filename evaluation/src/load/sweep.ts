import { JsonLines, spawnScript, stopTree } from '../bench/children.ts'
import type { LoadSummary } from '../bench/e2e-load.main.ts'
import { EndToEndSystem } from '../bench/e2e-system.ts'

/** One step of a sweep: an open-loop rate (arrivals/s) or a closed-loop concurrency. */
export interface LoadStep {
  mode: 'open' | 'closed'
  /** Arrivals per second offered (open) or clients (closed). */
  offered: number
  /** Open loop: arrivals actually sent per second. */
  achieved: number | null
  trips: number
  /** Requests answered per second, any outcome (first upload → last answer). */
  throughput: number
  /** Images classified per second, same span. */
  goodput: number
  p50: number | null
  p95: number | null
  p99: number | null
  s429: number
  s503: number
  failed: number
  errors: Record<string, number>
}

export interface SweepOptions {
  dataset: string
  images: number
  rates: number[]
  seconds: number
  concurrencies: number[]
  /** Closed loop: trips per client at each concurrency (at least 20 in all). */
  tripsPerClient: number
  log: (m: string) => void
}

const countOf = (errors: Record<string, number>, code: string) =>
  Object.entries(errors).filter(([k]) => k.includes(code)).reduce((s, [, v]) => s + v, 0)

/** The load generator in a process of its own (its CPU shows up like a real client's). */
async function runLoad(url: string, o: SweepOptions, args: Record<string, string | number>, timeoutS: number): Promise<LoadSummary> {
  const argv = ['--url', url, '--dataset', o.dataset, '--images', String(o.images), '--timeout', String(timeoutS), ...Object.entries(args).flatMap(([k, v]) => [`--${k}`, String(v)])]
  const child = spawnScript('evaluation/src/bench/e2e-load.main.ts', argv, { stderr: 'inherit' })
  try {
    return await new JsonLines(child, `the load process (${String(args.mode)})`).next<LoadSummary>('done', (timeoutS + 60) * 1000)
  } finally {
    await stopTree(child, 'SIGKILL', 0)
  }
}

function stepOf(mode: LoadStep['mode'], offered: number, s: LoadSummary): LoadStep {
  return {
    mode, offered, achieved: s.achievedPerSecond ?? null, trips: s.trips,
    throughput: s.wallSeconds > 0 ? s.trips / s.wallSeconds : 0, goodput: s.imagesPerSecond,
    p50: s.latencyMs.p50, p95: s.latencyMs.p95, p99: s.latencyMs.p99,
    s429: countOf(s.errors, '429'), s503: countOf(s.errors, '503'), failed: s.trips - s.succeeded, errors: s.errors,
  }
}

/**
 * The knee of the open-loop sweep: the highest rate the system still keeps up with, i.e. goodput at least
 * 90 % of the arrivals and p95 at most 3× the lowest rate's (beyond it, queues grow instead of output).
 */
export function openKnee(steps: LoadStep[]): LoadStep | null {
  const open = steps.filter((s) => s.mode === 'open').sort((a, b) => a.offered - b.offered)
  const base = open[0]?.p95
  let knee: LoadStep | null = null
  for (const s of open) {
    const keepsUp = s.goodput >= 0.9 * (s.achieved ?? s.offered) && base != null && s.p95 != null && s.p95 <= 3 * base
    if (!keepsUp) break
    knee = s
  }
  return knee
}

/** The closed-loop knee: the fewest clients that reach 90 % of the best goodput (more only add latency). */
export function closedKnee(steps: LoadStep[]): LoadStep | null {
  const closed = steps.filter((s) => s.mode === 'closed').sort((a, b) => a.offered - b.offered)
  const best = Math.max(0, ...closed.map((s) => s.goodput))
  return closed.find((s) => s.goodput >= 0.9 * best) ?? null
}

/** The sweep against the system as `npm start` runs it (coordinator and headless workers as processes). */
export async function runSweep(o: SweepOptions, onStep: (s: LoadStep) => void): Promise<LoadStep[]> {
  const system = await EndToEndSystem.start()
  const steps: LoadStep[] = []
  try {
    system.startRuntime({})
    const workers = await system.waitWorkers(undefined, 120_000)
    o.log(`coordinator ${system.url}, ${workers.length} worker page(s)`)
    // A short warm-up, so that the first step does not pay for the pages' first inferences.
    await runLoad(system.url, o, { mode: 'closed', count: 10, concurrency: 2 }, 120)
    for (const rate of o.rates) {
      o.log(`open loop: Poisson arrivals at ${rate}/s for ${o.seconds} s…`)
      const step = stepOf('open', rate, await runLoad(system.url, o, { mode: 'poisson', rate, seconds: o.seconds }, o.seconds + 300))
      steps.push(step)
      onStep(step)
    }
    for (const c of o.concurrencies) {
      o.log(`closed loop: ${c} client(s)…`)
      const count = Math.max(20, c * o.tripsPerClient)
      const step = stepOf('closed', c, await runLoad(system.url, o, { mode: 'closed', count, concurrency: c }, 300))
      steps.push(step)
      onStep(step)
    }
    return steps
  } finally {
    await system.stop().catch(() => undefined)
  }
}
