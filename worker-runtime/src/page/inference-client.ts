import type { ClassScore } from '@hivesight/protocol'
import type { BackendInfo, FromInference, InferenceInit } from './inference-messages.ts'

export interface Prediction { top: ClassScore[]; inferMs: number }

/** The page's handle on its inference Web Worker: start it once, then ask for one prediction at a time. */
export class InferenceClient {
  private readonly worker: Worker
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (p: Prediction) => void; reject: (e: Error) => void }>()
  private ready: { resolve: (info: BackendInfo & { loadMs: number }) => void; reject: (e: Error) => void } | undefined

  constructor(scriptUrl: string) {
    this.worker = new Worker(scriptUrl, { type: 'module', name: 'hivesight-inference' })
    this.worker.onmessage = (ev: MessageEvent<FromInference>) => this.receive(ev.data)
    this.worker.onerror = (ev) => this.failAll(new Error(`the inference worker failed: ${ev.message || 'script error'}`))
  }

  start(init: Omit<InferenceInit, 'type'>): Promise<BackendInfo & { loadMs: number }> {
    return new Promise((resolve, reject) => {
      this.ready = { resolve, reject }
      this.worker.postMessage({ type: 'init', ...init } satisfies InferenceInit)
    })
  }

  /** Transfers `input` to the worker: the caller must not touch it afterwards. */
  infer(input: Float32Array): Promise<Prediction> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.worker.postMessage({ type: 'infer', id, input }, [input.buffer])
    })
  }

  private receive(msg: FromInference): void {
    switch (msg.type) {
      case 'ready': {
        const { type: _type, ...info } = msg
        this.ready?.resolve(info)
        this.ready = undefined
        return
      }
      case 'result':
        this.pending.get(msg.id)?.resolve({ top: msg.top, inferMs: msg.inferMs })
        this.pending.delete(msg.id)
        return
      case 'error': {
        const err = new Error(msg.message)
        if (msg.id === undefined) return this.failAll(err)
        this.pending.get(msg.id)?.reject(err)
        this.pending.delete(msg.id)
        return
      }
    }
  }

  private failAll(err: Error): void {
    this.ready?.reject(err)
    this.ready = undefined
    for (const p of this.pending.values()) p.reject(err)
    this.pending.clear()
  }
}
