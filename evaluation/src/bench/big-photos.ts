import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { basename } from 'node:path'
import sharp from 'sharp'
import { readLabelledDataset, spreadSample } from '../dataset/labelled-dataset.ts'
import { Progress } from '../report/progress.ts'
import { pin } from './children.ts'
import { LoadClient, openBatch, type LoadImage, type Trip } from './e2e-load.ts'
import { EndToEndSystem, type RuntimeFlags } from './e2e-system.ts'
import type { Recorder } from './endtoend.ts'
import { multipartBody } from './upload-load.ts'
import { median } from '../stats/median.ts'

// `npm run bench -- --only photos`: phone photos against ordinary ones on the system as `npm start` runs it.
// The same ImageNet photos as they are (~500 × 375) and upscaled to 12 MP (4000 px on the longer side, JPEG
// q92, as a phone saves them), in alternating passes (A B A B …: on 2 shared cores two passes of one kind
// differ by more than the effect looked for), on a coordinator that shrinks big pictures before dispatch
// (the default) and on one that does not (SHRINK_IMAGES=off: the pages decode 12 MP themselves).

export interface BigPhotoOptions {
  photos: number
  rounds: number
  concurrency: number
  dataset: string
  flags: RuntimeFlags
}

export interface BigPhotoFigures {
  photos: number
  /** images/s per pass. */
  small: number[]
  big: number[]
  bigUnshrunk: number[]
  /** median big ÷ median small; goal ≥ 0.8. */
  ratio: number
  ratioUnshrunk: number
  /** Median in-page decode (+ crop window) time, ms. */
  decodeMs: { small: number; big: number; bigUnshrunk: number }
  /** CPU per image, ms: the coordinator process, and the whole machine (pages, browser, load, database). */
  cpuMs: { small: { coordinator: number; machine: number }; big: { coordinator: number; machine: number }; bigUnshrunk: { coordinator: number; machine: number } }
  /** The same on a one-core worker VM (runtime on CPU 1; coordinator and load on CPU 0). */
  oneCoreWorker: { small: number[]; big: number[]; bigUnshrunk: number[]; ratio: number; ratioUnshrunk: number }
  /** Photos whose 12 MP copy got another top-1 than the photo itself. */
  topOneDiffers: number
  problems: string[]
}

const GOAL = 0.8
const PAGES_TIMEOUT_MS = 180_000

async function phoneCopy(image: LoadImage, path: string): Promise<LoadImage> {
  const bytes = await sharp(path).rotate().resize({ width: 4000, height: 4000, fit: 'inside', kernel: 'lanczos3' }).jpeg({ quality: 92 }).toBuffer()
  return { ...image, file: `12mp-${image.file}`, upload: multipartBody(bytes, `12mp-${basename(image.file)}`, 'image/jpeg') }
}

/** CPU time in ms: of one process (all its threads), and of the whole machine (every core's busy time). */
const TICK_MS = 10
function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return NaN
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS
}
function machineCpuMs(): number {
  const [, ...t] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number)
  // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
  return (t.reduce((a, b) => a + b, 0) - t[3]! - t[4]!) * TICK_MS
}

interface Pass { perSecond: number; trips: Trip[]; coordinatorMsPerImage: number; machineMsPerImage: number }

async function pass(system: EndToEndSystem, images: LoadImage[], concurrency: number, what: string): Promise<Pass> {
  const client = new LoadClient(system.url, concurrency, Date.now() + 600_000)
  console.log(`  ${what}`)
  const progress = new Progress(images.length)
  try {
    const [c0, m0, t0] = [processCpuMs(system.coordinatorPid), machineCpuMs(), performance.now()]
    const trips = await openBatch(client, images, concurrency, () => progress.tick())
    const [c1, m1] = [processCpuMs(system.coordinatorPid), machineCpuMs()]
    const seconds = (Math.max(...trips.map((t) => t.doneAt)) - t0) / 1000
    const n = trips.length
    return { perSecond: trips.filter((t) => t.job?.status === 'succeeded').length / seconds, trips, coordinatorMsPerImage: (c1 - c0) / n, machineMsPerImage: (m1 - m0) / n }
  } finally {
    progress.end()
    client.close()
  }
}

const cpuOf = (passes: Pass[]) => ({ coordinator: median(passes.map((p) => p.coordinatorMsPerImage)), machine: median(passes.map((p) => p.machineMsPerImage)) })
const decodeMs = (passes: Pass[]) => median(passes.flatMap((p) => p.trips.flatMap((t) => (t.job?.result ? [t.job.result.decodeMs] : []))))
const failedOf = (passes: Pass[], what: string) => passes.flatMap((p) => p.trips.filter((t) => t.job?.status !== 'succeeded').map((t) => `${what} ${t.image.file}: ${t.error ?? t.job?.status}`))

/**
 * One system (a coordinator with SHRINK_IMAGES=`shrink`), its passes. Shared: the runtime sized as under npm
 * start, everything on every core. Pinned: a one-core worker VM — the runtime (one page) on CPU 1, the
 * coordinator and the load (this process) on CPU 0, as when the coordinator has a host of its own.
 */
async function onSystem(shrink: 'on' | 'off', o: BigPhotoOptions, layout: 'shared' | 'pinned', run: (system: EndToEndSystem) => Promise<void>): Promise<void> {
  const system = await EndToEndSystem.start({ SHRINK_IMAGES: shrink })
  try {
    if (layout === 'pinned') {
      system.pinCoordinator('0')
      pin(process.pid, '0')
    }
    system.startRuntime(layout === 'pinned' ? { pages: 1 } : o.flags, layout === 'pinned' ? '1' : undefined)
    await system.waitWorkers(layout === 'pinned' ? 1 : o.flags.pages, PAGES_TIMEOUT_MS)
    await run(system)
  } finally {
    if (layout === 'pinned') pin(process.pid, `0-${availableParallelism() - 1}`)
    await system.stop()
  }
}

export async function bigPhotoBench(o: BigPhotoOptions, rec: Recorder): Promise<BigPhotoFigures> {
  const labelled = spreadSample(readLabelledDataset(o.dataset).filter((i) => i.path.includes('val-orig')), o.photos)
  const small: LoadImage[] = labelled.map((i) => ({ file: i.file, wnid: i.wnid, upload: multipartBody(readFileSync(i.path), basename(i.file), 'image/jpeg') }))
  console.log(`\nBig photos: ${small.length} ImageNet photos as they are and as 12 MP JPEGs (made now), ${o.concurrency} clients, ${o.rounds} rounds of each, the system as npm start runs it`)
  const big = await Promise.all(small.map((s, n) => phoneCopy(s, labelled[n]!.path)))
  const mb = big.reduce((n, b) => n + b.upload.body.length, 0) / big.length / 1e6
  const smallPasses: Pass[] = []
  const bigPasses: Pass[] = []
  const unshrunkPasses: Pass[] = []
  await onSystem('on', o, 'shared', async (system) => {
    await pass(system, small.slice(0, o.concurrency * 2), o.concurrency, 'warm-up')
    for (let r = 0; r < o.rounds; r++) {
      smallPasses.push(await pass(system, small, o.concurrency, `round ${r + 1}: photos as they are`))
      bigPasses.push(await pass(system, big, o.concurrency, `round ${r + 1}: 12 MP photos`))
    }
  })
  await onSystem('off', o, 'shared', async (system) => {
    await pass(system, small.slice(0, o.concurrency * 2), o.concurrency, 'warm-up')
    for (let r = 0; r < Math.max(1, o.rounds - 1); r++) unshrunkPasses.push(await pass(system, big, o.concurrency, `round ${r + 1}: 12 MP photos, SHRINK_IMAGES=off`))
  })
  const [pinnedSmall, pinnedBig, pinnedUnshrunk]: [Pass[], Pass[], Pass[]] = [[], [], []]
  if (availableParallelism() >= 2) {
    await onSystem('on', o, 'pinned', async (system) => {
      await pass(system, small.slice(0, o.concurrency), o.concurrency, 'warm-up (one-core worker)')
      for (let r = 0; r < Math.max(1, o.rounds - 1); r++) {
        pinnedSmall.push(await pass(system, small, o.concurrency, `round ${r + 1}: one-core worker, photos as they are`))
        pinnedBig.push(await pass(system, big, o.concurrency, `round ${r + 1}: one-core worker, 12 MP photos`))
      }
    })
    await onSystem('off', o, 'pinned', async (system) => {
      pinnedUnshrunk.push(await pass(system, big, o.concurrency, 'one-core worker, 12 MP photos, SHRINK_IMAGES=off'))
    })
  }
  const per = (ps: Pass[]) => ps.map((p) => p.perSecond)
  const f: BigPhotoFigures = {
    photos: small.length, small: per(smallPasses), big: per(bigPasses), bigUnshrunk: per(unshrunkPasses),
    ratio: median(per(bigPasses)) / median(per(smallPasses)), ratioUnshrunk: median(per(unshrunkPasses)) / median(per(smallPasses)),
    decodeMs: { small: decodeMs(smallPasses), big: decodeMs(bigPasses), bigUnshrunk: decodeMs(unshrunkPasses) },
    cpuMs: { small: cpuOf(smallPasses), big: cpuOf(bigPasses), bigUnshrunk: cpuOf(unshrunkPasses) },
    oneCoreWorker: { small: per(pinnedSmall), big: per(pinnedBig), bigUnshrunk: per(pinnedUnshrunk), ratio: median(per(pinnedBig)) / median(per(pinnedSmall)), ratioUnshrunk: median(per(pinnedUnshrunk)) / median(per(pinnedSmall)) },
    topOneDiffers: 0, problems: [...failedOf(smallPasses, 'small'), ...failedOf(bigPasses, '12 MP'), ...failedOf(unshrunkPasses, '12 MP unshrunk')],
  }
  const top1 = new Map(smallPasses[0]!.trips.map((t) => [t.image.file, t.job?.result?.predictions[0]?.wnid]))
  f.topOneDiffers = bigPasses[0]!.trips.filter((t) => top1.get(t.image.file.replace(/^12mp-/, '')) !== t.job?.result?.predictions[0]?.wnid).length
  const list = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(', ')
  rec.report('photos as they are (~500 × 375), images/s', `${median(f.small).toFixed(1)} (${list(f.small)}), page decode ${f.decodeMs.small.toFixed(1)} ms`)
  rec.report(`12 MP photos (${mb.toFixed(1)} MB JPEG), shrunk on the coordinator`, `${median(f.big).toFixed(1)}/s (${list(f.big)}), page decode ${f.decodeMs.big.toFixed(1)} ms; top-1 differs on ${f.topOneDiffers} of ${f.photos}`,
    `${f.ratio.toFixed(2)}× photos as they are (goal ≥ ${GOAL}: ${f.ratio >= GOAL ? 'met' : 'NOT met'})`)
  rec.report('12 MP photos, SHRINK_IMAGES=off (pages decode them)', `${median(f.bigUnshrunk).toFixed(1)}/s (${list(f.bigUnshrunk)}), page decode ${f.decodeMs.bigUnshrunk.toFixed(1)} ms`, `${f.ratioUnshrunk.toFixed(2)}× photos as they are`)
  const cpu = (c: { coordinator: number; machine: number }) => `coordinator ${c.coordinator.toFixed(1)}, machine ${c.machine.toFixed(1)}`
  rec.report('CPU per image, ms (as they are / 12 MP shrunk / 12 MP not)', `${cpu(f.cpuMs.small)} / ${cpu(f.cpuMs.big)} / ${cpu(f.cpuMs.bigUnshrunk)}`)
  const w = f.oneCoreWorker
  if (w.small.length > 0) {
    rec.report('one-core worker VM (coordinator on the other core): photos as they are', `${median(w.small).toFixed(1)}/s (${list(w.small)})`)
    rec.report('one-core worker VM: 12 MP photos, shrunk / not', `${median(w.big).toFixed(1)}/s (${list(w.big)}) / ${median(w.bigUnshrunk).toFixed(1)}/s`,
      `${w.ratio.toFixed(2)}× / ${w.ratioUnshrunk.toFixed(2)}× photos as they are (goal ≥ ${GOAL}: ${w.ratio >= GOAL ? 'met' : 'NOT met'})`)
  }
  rec.rate('images classified /s', 'photos as they are', median(f.small))
  rec.rate('images classified /s', '12 MP, shrunk', median(f.big))
  rec.rate('images classified /s', '12 MP, not shrunk', median(f.bigUnshrunk))
  return f
}
