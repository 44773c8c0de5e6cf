import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { REPO_ROOT } from '@hivesight/coordinator'
import type { ModelList } from '@hivesight/protocol'
import { readLabelledDataset, spreadSample } from '../dataset/labelled-dataset.ts'
import { startHeadlessWorkers, startLocalCoordinator, until, type LocalCoordinator } from '../harness/local-system.ts'
import { colourPicture } from '../models/model-upload.ts'
import type { Recorder } from './endtoend.ts'
import { classify, compareAnswers, mobilenetUpload, passJobs, runPass, timedUpload, type AnswerCheck, type Photo, type ReadyTime } from './model-passes.ts'
import { chromiumPss, type ChromiumMemory } from './pss.ts'
import { median } from '../stats/median.ts'

// `npm run bench -- --only models`: what a second model costs on the same pages. One coordinator and the same
// 2 headless pages throughout, so the passes differ only in the models asked for; they alternate (A B A B …)
// because on 2 shared cores two passes of the same kind differ by more than the effect looked for.

export interface ModelBenchOptions {
  /** Photos per pass; each is classified twice (A: twice on MobileNet; B: once on each model). */
  photos: number
  rounds: number
  concurrency: number
  dataset: string
  modelDir: string
  /** Skip the page build (the test runner has built it) and say so in the figures. */
  quick: boolean
}

export interface ModelBenchFigures {
  quick: boolean
  pages: number
  jobsPerPass: number
  oneModelPerSecond: number[]
  twoModelsPerSecond: number[]
  oneModelMedian: number
  twoModelsMedian: number
  /** twoModelsMedian ÷ oneModelMedian; goal ≥ 0.9 (no thrash). */
  ratio: number
  answers: AnswerCheck
  /** Pages holding each version after the two-model passes (both should hold both). */
  heldBy: { mobilenet: number; second: number }
  readyMs: { teachable: Omit<ReadyTime, 'version'>; mobilenet: Omit<ReadyTime, 'version'> }
  pssMiB: { oneModel: ChromiumMemory; twoModels: ChromiumMemory; perPageDelta: number }
  budget: { maxModels: number; maxWeightMiB: number; mobilenetWeightMiB: number }
  /** Failed jobs, different answers: the figures stand, the section is reported as failed. */
  problems: string[]
}

const GOAL = 0.9
const PAGES = 2
const SECOND = 'mobilenet-b'
// The page's defaults (worker-runtime/src/page/main.ts: ?models=, ?modelMb=).
const BUDGET = { maxModels: 4, maxWeightMiB: 400 }
const MiB = 1024 * 1024
// Other work on the machine lowers a pass: say how busy it was before each.
const busy = () => `load ${loadavg()[0]!.toFixed(2)} before`
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const secs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`)
const size = (bytes: number) => (bytes >= MiB ? `${(bytes / MiB).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KB`)
const withoutVersion = ({ version: _, ...rest }: ReadyTime) => rest

function buildWorkerPage(): void {
  const r = spawnSync('npm', ['run', '--silent', 'build', '-w', 'worker-runtime'], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'], timeout: 180_000 })
  if (r.status !== 0) throw new Error(`building the worker page failed: ${r.error?.message ?? `exit ${r.status ?? r.signal}`}`)
}

/**
 * Jobs of `model` in bursts until every page holds `versionId`: the passes measure pages that are warm, not
 * the first load (that is the smoke test's figure, and the dispatcher's preference keeps it rare). Without
 * `versionId`, two bursts: a page does not report the model it preloads (worker-runtime main.ts sets
 * inference.onModels after the preload), so "held" cannot be waited for until another version loads.
 */
async function warm(system: LocalCoordinator, photos: Photo[], concurrency: number, model?: string, versionId?: string): Promise<void> {
  const burst = () => Promise.all(Array.from({ length: concurrency * 2 }, (_, i) => classify(system.url, photos[i % photos.length]!.bytes, model)))
  if (!versionId) {
    await burst()
    await burst()
    return
  }
  for (let n = 0; n < 20 && system.registry.holding(versionId).length < PAGES; n++) await burst()
  await until(() => system.registry.holding(versionId).length >= PAGES, 10_000, `both pages to hold ${model ?? 'the default model'}`)
}

async function memory(): Promise<ChromiumMemory> {
  await sleep(1_000) // the last answers' buffers released
  return chromiumPss()
}

function printTable(f: ModelBenchFigures): void {
  const col = (xs: number[]) => xs.map((x) => x.toFixed(1).padStart(8)).join('')
  const heads = f.oneModelPerSecond.map((_, i) => `round ${i + 1}`.padStart(8)).join('')
  const goal = `goal ≥ ${GOAL}: ${f.ratio >= GOAL ? 'met' : 'NOT met'}`
  const mem = (m: ChromiumMemory) => `${m.totalMiB.toFixed(0)} MiB (${m.processes} processes; renderers ${m.rendererMiB.map((x) => x.toFixed(0)).join(' + ')})`
  const ready = (r: Omit<ReadyTime, 'version'>) => `${secs(r.wallMs)} (coordinator ${secs(r.serverMs)}; smoke load ${secs(r.smoke?.loadMs ?? NaN)}, infer ${secs(r.smoke?.inferMs ?? NaN)}; ${size(r.bytes)})`
  console.log([
    `\n  images/s, ${f.jobsPerPass} jobs per pass${''.padEnd(4)}${heads}  median`,
    `  one model (MobileNet)          ${col(f.oneModelPerSecond)}  ${f.oneModelMedian.toFixed(1)}`,
    `  two models, 50/50 alternating  ${col(f.twoModelsPerSecond)}  ${f.twoModelsMedian.toFixed(1)}   two/one ${f.ratio.toFixed(2)} (${goal})`,
    `  same top-1 wnid from both models: ${f.answers.same}/${f.answers.compared} photo pairs over the rounds (top-1 correct ${f.answers.correct}/${f.answers.compared}); held by ${f.heldBy.mobilenet} and ${f.heldBy.second} of ${f.pages} pages`,
    `  POST /api/v1/models → ready, Teachable Machine (3 classes): ${ready(f.readyMs.teachable)}`,
    `  POST /api/v1/models → ready, MobileNet-sized:               ${ready(f.readyMs.mobilenet)}`,
    `  Chromium PSS, pages holding 1 model:  ${mem(f.pssMiB.oneModel)}`,
    `  Chromium PSS, pages holding 2 models: ${mem(f.pssMiB.twoModels)}; +${f.pssMiB.perPageDelta.toFixed(0)} MiB per page`,
    `  per-page budget (defaults): ≤ ${f.budget.maxModels} models, ≤ ${f.budget.maxWeightMiB} MiB of weights; MobileNet is ${f.budget.mobilenetWeightMiB.toFixed(1)} MiB, so the count binds first:`,
    `    at ${f.budget.maxModels} MobileNet-sized models a page would hold ≈ +${((f.budget.maxModels - 1) * f.pssMiB.perPageDelta).toFixed(0)} MiB over 1 model (linear from the measured step)`,
  ].join('\n'))
}

/** The section; returns its figures, or throws (the caller reports it as failed). */
export async function modelRepositoryBench(o: ModelBenchOptions, rec: Recorder): Promise<ModelBenchFigures> {
  console.log(`\nModel repository: one coordinator (in this process), ${PAGES} headless pages; ${o.rounds} rounds of one-model then two-model passes, ${o.photos} photos × 2 jobs each, ${o.concurrency} clients${o.quick ? ' (--quick)' : ''}`)
  const photos: Photo[] = spreadSample(readLabelledDataset(o.dataset), o.photos).map((p) => ({ file: p.file, wnid: p.wnid, bytes: readFileSync(p.path) }))
  const second = mobilenetUpload(o.modelDir)
  // Loaded only here: tfjs-layers and its CPU backend are of no use to the other sections.
  const { makeTeachableModel } = await import('../../../coordinator/test/support/teachable-model.ts')
  const teachable = (await makeTeachableModel({ labels: ['red', 'green', 'blue'] })).files
  if (!o.quick) buildWorkerPage()

  const system = await startLocalCoordinator()
  try {
    const t0 = performance.now()
    const workers = await startHeadlessWorkers(system.url, PAGES)
    try {
      await until(() => system.registry.size === PAGES, 60_000, `${PAGES} worker pages to connect`)
      console.log(`  ${PAGES} pages joined in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
      const list = (await (await fetch(`${system.url}/api/v1/models`)).json()) as ModelList
      const builtIn = list.models[0]
      const builtInVersion = builtIn?.versions[0]
      if (list.models.length !== 1 || !builtIn || !builtInVersion) throw new Error(`expected the built-in model alone, found ${list.models.map((m) => m.name).join(', ')}`)
      await warm(system, photos, o.concurrency)

      const one: number[] = []
      const two: number[] = []
      const failed: string[] = []
      let answers: AnswerCheck | undefined
      let oneModel: ChromiumMemory | undefined
      let mobilenetReady: ReadyTime | undefined
      const jobsA = passJobs(photos.length)
      const jobsB = passJobs(photos.length, SECOND)
      for (let round = 1; round <= o.rounds; round++) {
        let load = busy()
        const a = await runPass(system.url, photos, jobsA, o.concurrency, builtIn.name)
        one.push(a.perSecond)
        failed.push(...a.failed)
        console.log(`  round ${round}, one model:  ${a.perSecond.toFixed(1)} images/s (${a.jobs.length} in ${a.seconds.toFixed(1)} s, ${a.failed.length} failed; ${load})`)
        if (!oneModel || !mobilenetReady) {
          oneModel = await memory()
          mobilenetReady = await timedUpload(system.url, SECOND, second.files)
          console.log(`  ${SECOND} uploaded and ready in ${secs(mobilenetReady.wallMs)}; warming it on both pages`)
          await warm(system, photos, o.concurrency, SECOND, mobilenetReady.version.id)
        }
        load = busy()
        const b = await runPass(system.url, photos, jobsB, o.concurrency, builtIn.name)
        two.push(b.perSecond)
        failed.push(...b.failed)
        answers = compareAnswers(photos, jobsB, b.jobs, answers)
        console.log(`  round ${round}, two models: ${b.perSecond.toFixed(1)} images/s (${b.jobs.length} in ${b.seconds.toFixed(1)} s, ${b.failed.length} failed; ${load}); two/one ${(b.perSecond / a.perSecond).toFixed(2)}`)
      }
      const problems = failed.length > 0 ? [`${failed.length} job(s) failed or ran on the wrong model: ${failed.slice(0, 3).join('; ')}`] : []
      if (answers!.same !== answers!.compared) problems.push(`${answers!.compared - answers!.same} photo(s) got different top-1 answers from the two models`)
      const heldBy = { mobilenet: system.registry.holding(builtInVersion.id).length, second: system.registry.holding(mobilenetReady!.version.id).length }
      const twoModels = await memory()
      // Last: its smoke test adds a third (tiny) model to one page, after the memory figures.
      const teachableReady = await timedUpload(system.url, 'tm-colours', teachable)
      const red = await classify(system.url, await colourPicture([220, 30, 30]), 'tm-colours', 'image/png')
      if (red.result?.predictions[0]?.label !== 'red') problems.push(`the Teachable Machine model called a red picture ${JSON.stringify(red.result?.predictions[0] ?? red.error)}`)

      const f: ModelBenchFigures = {
        quick: o.quick, pages: PAGES, jobsPerPass: jobsA.length,
        oneModelPerSecond: one, twoModelsPerSecond: two, oneModelMedian: median(one), twoModelsMedian: median(two), ratio: median(two) / median(one),
        answers: answers!, heldBy,
        readyMs: { teachable: withoutVersion(teachableReady), mobilenet: withoutVersion(mobilenetReady!) },
        pssMiB: { oneModel: oneModel!, twoModels, perPageDelta: (twoModels.totalMiB - oneModel!.totalMiB) / PAGES },
        budget: { ...BUDGET, mobilenetWeightMiB: second.weightBytes / MiB },
        problems,
      }
      printTable(f)
      const goal = `goal ≥ ${GOAL}: ${f.ratio >= GOAL ? 'met' : 'NOT met'}`
      rec.report('models: one model, MobileNet (median)', `${f.oneModelMedian.toFixed(1)} images/s (${one.map((x) => x.toFixed(1)).join(', ')})`)
      rec.report('models: two models 50/50, same cost (median)', `${f.twoModelsMedian.toFixed(1)} images/s (${two.map((x) => x.toFixed(1)).join(', ')})`, `two/one ${f.ratio.toFixed(2)}, ${goal}`)
      rec.report('models: same top-1 from both models', `${f.answers.same}/${f.answers.compared} photo pairs${f.answers.mismatches.length ? `; e.g. ${f.answers.mismatches.join('; ')}` : ''}`)
      rec.report('models: POST → ready, Teachable Machine', secs(f.readyMs.teachable.wallMs), `coordinator ${secs(f.readyMs.teachable.serverMs)}`)
      rec.report('models: POST → ready, MobileNet-sized', secs(f.readyMs.mobilenet.wallMs), `coordinator ${secs(f.readyMs.mobilenet.serverMs)}`)
      rec.report('models: Chromium PSS, 1 → 2 models', `${oneModel!.totalMiB.toFixed(0)} → ${twoModels.totalMiB.toFixed(0)} MiB`, `+${f.pssMiB.perPageDelta.toFixed(0)} MiB per page; budget ≤ ${BUDGET.maxModels} models / ${BUDGET.maxWeightMiB} MiB weights`)
      rec.rate('images classified /s', 'one model (2 pages)', f.oneModelMedian)
      rec.rate('images classified /s', 'two models 50/50 (2 pages)', f.twoModelsMedian)
      for (const p of problems) console.log(`  PROBLEM: ${p}`)
      console.log(JSON.stringify({ type: 'bench.models', ...f }))
      return f
    } finally {
      await workers.stop()
    }
  } finally {
    await system.close()
  }
}
