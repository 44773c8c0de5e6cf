import type { ClassScore, WorkerFlavour } from '@hivesight/protocol'

// What the page and its inference Web Worker say to each other (postMessage, same origin).

export interface InferenceInit {
  type: 'init'
  wasmPath: string
  modelUrl: string
  /** wasm threads; more than 1 needs a cross-origin isolated page (COOP/COEP), else tfjs runs 1. */
  threads: number
}

export interface InferenceRequest {
  type: 'infer'
  id: number
  /** [224, 224, 3] float32, transferred (not copied). */
  input: Float32Array
}

export type ToInference = InferenceInit | InferenceRequest

export interface BackendInfo {
  backend: string
  simd: boolean
  threads: number
  flavour: WorkerFlavour
}

export type FromInference =
  | ({ type: 'ready'; loadMs: number } & BackendInfo)
  | { type: 'result'; id: number; top: ClassScore[]; inferMs: number }
  | { type: 'error'; id?: number; message: string }
