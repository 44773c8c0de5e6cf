/// <reference lib="webworker" />
import * as tf from '@tensorflow/tfjs-core'
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter'
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm'
import { workerFlavour } from '@hivesight/protocol'
import { classifyInput, warmUp } from './classify.ts'
import { INPUT_SIZE } from './crop-resize.ts'
import type { BackendInfo, FromInference, ToInference } from './inference-messages.ts'

// The page's inference thread: tfjs, its wasm memory and the model weights live here and only here, so the
// page's own thread (socket, decoding the next image, the status line) is never blocked by a prediction.
declare const self: DedicatedWorkerGlobalScope
const post = (msg: FromInference) => self.postMessage(msg)
let model: GraphModel | undefined

/** tfjs on the wasm backend, asserted: a failed wasm set-up would silently fall back to a slow backend. */
async function initBackend(wasmPath: string, threads: number): Promise<BackendInfo> {
  setWasmPaths(wasmPath)
  // Chosen on purpose: tfjs would take hardwareConcurrency / 2, one thread on a 2-core machine, and its
  // wasm side caps what setThreadsCount asks by that same figure, so the figure is made to match.
  setThreadsCount(threads)
  Object.defineProperty(WorkerNavigator.prototype, 'hardwareConcurrency', { get: () => threads * 2, configurable: true })
  const ok = await tf.setBackend('wasm')
  await tf.ready()
  if (!ok || tf.getBackend() !== 'wasm') throw new Error(`the tfjs wasm backend did not start (backend: ${tf.getBackend()})`)
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))
  const multithread = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'))
  // Without isolation tfjs loads the single-thread binary whatever was asked.
  const running = simd && multithread ? Math.max(1, getThreadsCount()) : 1
  return { backend: 'wasm', simd, threads: running, flavour: workerFlavour({ backend: 'wasm', simd, threads: running }) }
}

async function handle(msg: ToInference): Promise<void> {
  if (msg.type === 'init') {
    const t0 = performance.now()
    const info = await initBackend(msg.wasmPath, msg.threads)
    model = await loadGraphModel(msg.modelUrl)
    // The graph keeps what it loaded (for save()); the weights now live in wasm memory, so the 14 MB JS
    // copy would only be a second one.
    const artifacts = (model as unknown as { artifacts?: { weightData?: unknown } }).artifacts
    if (artifacts) artifacts.weightData = undefined
    await warmUp(model)
    return post({ type: 'ready', loadMs: performance.now() - t0, ...info })
  }
  if (!model) return post({ type: 'error', id: msg.id, message: 'the model is not loaded yet' })
  const t0 = performance.now()
  const input = tf.tensor4d(msg.input, [1, INPUT_SIZE, INPUT_SIZE, 3], 'float32')
  try {
    const top = await classifyInput(model, input)
    post({ type: 'result', id: msg.id, top, inferMs: performance.now() - t0 })
  } finally {
    input.dispose()
  }
}

// Requests are handled one at a time, in order: a prediction already uses every thread it was given.
let chain = Promise.resolve()
self.onmessage = (ev: MessageEvent<ToInference>) => {
  const msg = ev.data
  chain = chain.then(() => handle(msg)).catch((err: unknown) => {
    post({ type: 'error', id: msg.type === 'infer' ? msg.id : undefined, message: err instanceof Error ? err.message : String(err) })
  })
}
