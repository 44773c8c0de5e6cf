import type { ClassScore, ModelDescriptor, WorkerFlavour } from '@hivesight/protocol'

// What the page and its inference Web Worker say to each other (postMessage, same origin).

export interface InferenceInit {
  type: 'init'
  wasmPath: string
  /** Where version files are: `${modelsPath}${id}/${file}`. */
  modelsPath: string
  /** wasm threads; more than 1 needs a cross-origin isolated page (COOP/COEP), else tfjs runs 1. */
  threads: number
  /** Models kept loaded at most (least recently used ones are disposed beyond it), and their weight bytes. */
  maxModels: number
  maxModelBytes: number
}

export interface InferenceRequest {
  type: 'infer'
  id: number
  model: ModelDescriptor
  /** [size, size, channels] float32, transferred (not copied). */
  input: Float32Array
}

/** Load (if needed) and run on zeros: the smoke test of a new version, and a preload. */
export interface InferenceCheck {
  type: 'check'
  id: number
  model: ModelDescriptor
}

export type ToInference = InferenceInit | InferenceRequest | InferenceCheck

export interface BackendInfo {
  backend: string
  simd: boolean
  threads: number
  flavour: WorkerFlavour
}

export interface CheckResult { loadMs: number; inferMs: number; outputs: number; finite: boolean }

export type FromInference =
  | ({ type: 'ready' } & BackendInfo)
  | { type: 'result'; id: number; top: ClassScore[]; inferMs: number }
  | ({ type: 'checked'; id: number } & CheckResult)
  | { type: 'models'; held: string[]; evicted: number; heapBytes: number }
  | { type: 'error'; id?: number; message: string }
