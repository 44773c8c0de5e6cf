import { Progress } from '../report/progress.ts'
import type { BackendDone, BackendReady } from './backend-limit.main.ts'
import { JsonLines, spawnScript, stopTree } from './children.ts'

export interface BackendLimit {
  processes: number
  /** Sum over the processes running at the same time. */
  imagesPerSecond: number
  perProcess: BackendDone[]
  /** One process alone (nothing else running), ms per predict. */
  singleMsPerImage: number
  threads: number
  simd: boolean
  top1Index: number
}

const SCRIPT = 'evaluation/src/bench/backend-limit.main.ts'

/**
 * `processes` Node processes of tfjs-wasm predicting at once, each started only once every one of them has
 * loaded and warmed up, for `seconds`: the most this backend does on this machine with nothing around it.
 */
async function together(o: { processes: number; seconds: number; modelDir: string; image: string; label: string; cpus?: string }): Promise<{ ready: BackendReady[]; done: BackendDone[] }> {
  const children = Array.from({ length: o.processes }, (_, i) => {
    const child = spawnScript(SCRIPT, ['--model', o.modelDir, '--image', o.image, '--seconds', String(o.seconds)], { stdin: 'pipe', cpus: o.cpus })
    return { child, lines: new JsonLines(child, `backend-limit process ${i + 1}`) }
  })
  try {
    const ready = await Promise.all(children.map((c) => c.lines.next<BackendReady>('ready', 180_000)))
    for (const c of children) c.child.stdin?.write('go\n')
    // The processes time themselves; this shows seconds passing and their sum so far.
    const progress = new Progress(o.seconds)
    const t0 = performance.now()
    const timer = setInterval(() => {
      const images = children.reduce((n, c) => n + (c.lines.latest<{ images: number }>('progress')?.images ?? 0), 0)
      if (progress.done < o.seconds) progress.tick(`seconds; ${o.label}, ≈ ${(images / ((performance.now() - t0) / 1000)).toFixed(1)} images/s`)
    }, 1_000)
    try {
      const done = await Promise.all(children.map((c) => c.lines.next<BackendDone>('done', o.seconds * 1000 + 60_000)))
      return { ready, done }
    } finally {
      clearInterval(timer)
      progress.end()
    }
  } finally {
    await Promise.all(children.map((c) => stopTree(c.child, 'SIGKILL', 1_000)))
  }
}

export async function measureBackendLimit(o: { processes: number; seconds: number; singleSeconds: number; modelDir: string; image: string }): Promise<BackendLimit> {
  const alone = await together({ ...o, processes: 1, seconds: o.singleSeconds, label: '1 process alone' })
  const all = await together({ ...o, label: `${o.processes} processes at once` })
  const first = all.ready[0]!
  return {
    processes: o.processes,
    imagesPerSecond: all.done.reduce((s, d) => s + d.images / d.seconds, 0),
    perProcess: all.done,
    singleMsPerImage: alone.done[0]!.msPerImage,
    threads: first.threads,
    simd: first.simd,
    top1Index: first.top1Index,
  }
}

/** One process pinned to `cpu`, predict only: the limit of a one-core worker VM. */
export async function oneCoreLimit(o: { seconds: number; modelDir: string; image: string; cpu: string }): Promise<BackendDone> {
  const { done } = await together({ ...o, processes: 1, cpus: o.cpu, label: `1 process on CPU ${o.cpu}` })
  return done[0]!
}
