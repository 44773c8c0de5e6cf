import type { ClassScore, ModelDescriptor } from '@hivesight/protocol'
import type { BackendInfo, CheckResult, FromInference, InferenceInit } from './inference-messages.ts'

export interface Prediction { top: ClassScore[]; inferMs: number }

type Waiter = { resolve: (v: never) => void; reject: (e: Error) => void }

/** The page's handle on its inference Web Worker: start it once, then ask for one prediction (or check) at a time. */
export class InferenceClient {
  private worker: Worker
  private nextId = 1
  private readonly pending = new Map<number, Waiter>()
  private ready: { resolve: (info: BackendInfo) => void; reject: (e: Error) => void } | undefined
  private init: Omit<InferenceInit, 'type'> | undefined
  /** While a fresh worker starts, requests wait here (in order) instead of going to the old one. */
  private held: (() => void)[] | undefined
  /** The versions the worker holds loaded, whenever that changes, with its wasm heap after any eviction. */
  onModels: (held: string[], memory: { evicted: number; heapBytes: number }) => void = () => undefined
  restarts = 0

  constructor(private readonly scriptUrl: string) {
    this.worker = this.spawn()
  }

  private spawn(): Worker {
    const worker = new Worker(this.scriptUrl, { type: 'module', name: 'hivesight-inference' })
    worker.onmessage = (ev: MessageEvent<FromInference>) => this.receive(ev.data)
    worker.onerror = (ev) => this.failAll(new Error(`the inference worker failed: ${ev.message || 'script error'}`))
    return worker
  }

  start(init: Omit<InferenceInit, 'type'>): Promise<BackendInfo> {
    this.init = init
    return new Promise((resolve, reject) => {
      this.ready = { resolve, reject }
      this.worker.postMessage({ type: 'init', ...init } satisfies InferenceInit)
    })
  }

  /**
   * A fresh inference worker (and wasm heap): requests from now on wait; those in flight finish on the old
   * one, which is then terminated. Versions load again on first use.
   */
  async restart(): Promise<void> {
    if (this.held || !this.init) return
    this.held = []
    while (this.pending.size > 0) await new Promise((r) => setTimeout(r, 5))
    this.worker.terminate()
    this.worker = this.spawn()
    this.restarts++
    try {
      await this.start(this.init)
    } finally {
      const waiting = this.held
      this.held = undefined
      for (const post of waiting) post()
      this.onModels([], { evicted: 0, heapBytes: 0 })
    }
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
      const send = () => {
        this.pending.set(id, { resolve: resolve as (v: never) => void, reject })
        post(id)
      }
      if (this.held) this.held.push(send)
      else send()
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
        return this.onModels(msg.held, { evicted: msg.evicted, heapBytes: msg.heapBytes })
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
