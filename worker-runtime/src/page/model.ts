import * as tf from '@tensorflow/tfjs-core'
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter'
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'
import { warmUp } from './classify.ts'

export interface BackendInfo {
  backend: string
  threads: number
  simd: boolean
}

/** tfjs on the wasm backend, asserted: a failed wasm set-up would silently fall back to a slow backend. */
export async function initBackend(wasmPath: string): Promise<BackendInfo> {
  setWasmPaths(wasmPath)
  const ok = await tf.setBackend('wasm')
  await tf.ready()
  if (!ok || tf.getBackend() !== 'wasm') throw new Error(`the tfjs wasm backend did not start (backend: ${tf.getBackend()})`)
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))
  const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as { getThreadsCount?: () => number }
  return { backend: 'wasm', threads: wasm.getThreadsCount?.() ?? 1, simd }
}

export async function loadModel(modelUrl: string): Promise<GraphModel> {
  const model = await loadGraphModel(modelUrl)
  await warmUp(model)
  return model
}
