/// <reference lib="webworker" />
import * as tf from '@tensorflow/tfjs-core'
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm'
import { workerFlavour } from '@hivesight/protocol'
import { classifyInput, runOnZeros } from './classify.ts'
import type { BackendInfo, FromInference, ToInference } from './inference-messages.ts'
import { ModelStore } from './model-store.ts'

// The page's inference thread: tfjs, its wasm memory and the model weights live here and only here, so the
// page's own thread (socket, decoding the next image, the status line) is never blocked by a prediction.
declare const self: DedicatedWorkerGlobalScope
const post = (msg: FromInference) => self.postMessage(msg)
let store: ModelStore | undefined

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

/** The wasm module's memory: it grows as models load and never shrinks when they are disposed. */
function wasmHeapBytes(): number {
  const wasm = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm
  return wasm?.HEAPU8?.buffer.byteLength ?? 0
}

async function handle(msg: ToInference): Promise<void> {
  if (msg.type === 'init') {
    const info = await initBackend(msg.wasmPath, msg.threads)
    store = new ModelStore({ modelsPath: msg.modelsPath, maxModels: msg.maxModels, maxModelBytes: msg.maxModelBytes, onChange: (held, evicted) => post({ type: 'models', held, evicted, heapBytes: wasmHeapBytes() }) })
    return post({ type: 'ready', ...info })
  }
  if (!store) return post({ type: 'error', id: msg.id, message: 'the inference worker is not started yet' })
  const { inputSize, channels } = msg.model.preprocessing
  if (msg.type === 'check') {
    const { value, loadMs } = await store.use(msg.model, async (model) => {
      const t0 = performance.now()
      const zeros = await runOnZeros(model, msg.model)
      return { ...zeros, inferMs: performance.now() - t0 }
    })
    return post({ type: 'checked', id: msg.id, loadMs, ...value })
  }
  const t0 = performance.now()
  const input = tf.tensor4d(msg.input, [1, inputSize, inputSize, channels], 'float32')
  try {
    const { value: top, loadMs } = await store.use(msg.model, (model) => classifyInput(model, input, msg.model))
    post({ type: 'result', id: msg.id, top, inferMs: performance.now() - t0 - loadMs })
  } finally {
    input.dispose()
  }
}

// Requests are handled one at a time, in order: a prediction already uses every thread it was given.
let chain = Promise.resolve()
self.onmessage = (ev: MessageEvent<ToInference>) => {
  const msg = ev.data
  chain = chain.then(() => handle(msg)).catch((err: unknown) => {
    post({ type: 'error', id: msg.type === 'init' ? undefined : msg.id, message: err instanceof Error ? err.message : String(err) })
  })
}
