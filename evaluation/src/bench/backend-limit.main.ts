// One process of the backend-limit measurement (spawned by backend-limit.ts, one per core):
//   node --import tsx evaluation/src/bench/backend-limit.main.ts --model DIR --image FILE --seconds S
// Loads MobileNet V2 on tfjs-wasm (SIMD, one thread), preprocesses one real image once, warms up, prints
// {"type":"ready"} and waits for a line on stdin, so that every process starts timing at the same moment;
// then runs predict only on that input for S seconds (a {"type":"progress"} line every second) and
// prints {"type":"done",…}. Stdout carries JSON only.
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import * as tf from '@tensorflow/tfjs-core'
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm'
import { NodeClassifier } from '../reference/node-classifier.ts'

export interface BackendReady { type: 'ready'; loadMs: number; threads: number; simd: boolean; top1Index: number }
export interface BackendDone { type: 'done'; images: number; seconds: number; msPerImage: number }

const say = (msg: object) => process.stdout.write(`${JSON.stringify(msg)}\n`)

try {
  const { values } = parseArgs({ options: { model: { type: 'string' }, image: { type: 'string' }, seconds: { type: 'string', default: '15' }, warmup: { type: 'string', default: '15' } } })
  if (!values.model || !values.image) throw new Error('--model DIR and --image FILE are required')
  const seconds = Number(values.seconds)
  const t0 = performance.now()
  const classifier = await NodeClassifier.load(values.model)
  const bytes = readFileSync(values.image)
  const input = await classifier.modelInput(bytes)
  // Kernel set-up and allocator growth happen in the first passes: keep them out of the timing.
  for (let i = 0; i < Number(values.warmup); i++) await classifier.predictOnly(input)
  const top1Index = (await classifier.classify(bytes))[0]?.index ?? -1
  const ready: BackendReady = {
    type: 'ready', loadMs: performance.now() - t0, threads: getThreadsCount(), simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')), top1Index,
  }
  say(ready)
  const lines = createInterface({ input: process.stdin })
  const go = await new Promise<boolean>((resolve) => {
    lines.once('line', () => resolve(true))
    lines.once('close', () => resolve(false))
  })
  lines.close()
  if (!go) process.exit(0) // the parent went away before the start signal
  const start = performance.now()
  const end = start + seconds * 1000
  let images = 0
  let reported = start
  while (performance.now() < end) {
    await classifier.predictOnly(input)
    images++
    if (performance.now() - reported >= 1_000) {
      reported = performance.now()
      say({ type: 'progress', images })
    }
  }
  const elapsed = (performance.now() - start) / 1000
  const done: BackendDone = { type: 'done', images, seconds: elapsed, msPerImage: (elapsed * 1000) / images }
  say(done)
  input.dispose()
  process.exit(0)
} catch (err) {
  say({ type: 'error', message: err instanceof Error ? err.message : String(err) })
  process.exit(1)
}
