import type { ClassScore, ModelDescriptor } from '@hivesight/protocol'
import type { BackendInfo, CheckResult, FromInference, InferenceInit } from './inference-messages.ts'

export interface Prediction { top: ClassScore[]; inferMs: number }

type Waiter = { resolve: (v: never) => void; reject: (e: Error) => void }

/** The page's handle on its inference Web Worker: start it once, then ask for one prediction (or check) at a time. */
export class InferenceClient {
  private readonly worker: Worker
  private nextId = 1
  private readonly pending = new Map<number, Waiter>()
  private ready: { resolve: (info: BackendInfo) => void; reject: (e: Error) => void } | undefined
  /** The versions the worker holds loaded, whenever that changes. */
  onModels: (held: string[]) => void = () => undefined

  constructor(scriptUrl: string) {
    this.worker = new Worker(scriptUrl, { type: 'module', name: 'hivesight-inference' })
    this.worker.onmessage = (ev: MessageEvent<FromInference>) => this.receive(ev.data)
    this.worker.onerror = (ev) => this.failAll(new Error(`the inference worker failed: ${ev.message || 'script error'}`))
  }

  start(init: Omit<InferenceInit, 'type'>): Promise<BackendInfo> {
    return new Promise((resolve, reject) => {
      this.ready = { resolve, reject }
      this.worker.postMessage({ type: 'init', ...init } satisfies InferenceInit)
    })
  }

  /** Transfers `input` to the worker: the caller must not touch it afterwards. Loads the version first if needed. */
  infer(input: Float32Array, model: ModelDescriptor): Promise<Prediction> {
    return this.ask<Prediction>((id) => this.worker.postMessage({ type: 'infer', id, model, input }, [input.buffer]))
  }

  /** Loads the version (if needed) and runs it on zeros. */
  check(model: ModelDescriptor): Promise<CheckResult> {
    return this.ask<CheckResult>((id) => this.worker.postMessage({ type: 'check', id, model }))
  }

  private ask<T>(post: (id: number) => void): Promise<T> {
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: never) => void, reject })
      post(id)
    })
  }

  private settle(id: number, value: unknown): void {
    ;(this.pending.get(id)?.resolve as ((v: unknown) => void) | undefined)?.(value)
    this.pending.delete(id)
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
        return this.settle(msg.id, { top: msg.top, inferMs: msg.inferMs })
      case 'checked': {
        const { type: _type, id, ...result } = msg
        return this.settle(id, result)
      }
      case 'models':
        return this.onModels(msg.held)
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
