import * as tf from '@tensorflow/tfjs-core'
import { loadGraphModel } from '@tensorflow/tfjs-converter'
import { loadLayersModel } from '@tensorflow/tfjs-layers'
import type { ModelDescriptor } from '@hivesight/protocol'
import { sha256 } from '@noble/hashes/sha2.js'
import { runOnZeros, type Predictor } from './classify.ts'

interface Loaded { model: Predictor & { dispose(): void }; bytes: number; lastUsed: number; busy: number }

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')

/**
 * WebCrypto where the page has it; a volunteer tab opened over plain http on a LAN address is not a secure
 * context and has no crypto.subtle, so there the digest is computed in JavaScript (~10 ms per MB).
 */
async function digest(body: ArrayBuffer): Promise<string> {
  if (globalThis.crypto?.subtle) return hex(new Uint8Array(await crypto.subtle.digest('SHA-256', body)))
  return hex(sha256(new Uint8Array(body)))
}

/** A version's file, refused unless its sha256 is the descriptor's (a proxy or a cache cannot swap weights). */
async function fetchChecked(url: string, sha256: string, bytes: number): Promise<ArrayBuffer> {
  const res = await fetch(url)
  if (!res.ok) throw new Error(`could not fetch ${url}: HTTP ${res.status}`)
  const body = await res.arrayBuffer()
  if (body.byteLength !== bytes) throw new Error(`${url} has ${body.byteLength} bytes, the descriptor says ${bytes}`)
  const got = await digest(body)
  if (got !== sha256) throw new Error(`${url} does not match its sha256 (got ${got.slice(0, 12)}…, want ${sha256.slice(0, 12)}…)`)
  return body
}

function concat(parts: ArrayBuffer[]): ArrayBuffer {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let at = 0
  for (const p of parts) {
    out.set(new Uint8Array(p), at)
    at += p.byteLength
  }
  return out.buffer
}

/**
 * The model versions this page holds, loaded on first use and kept within a budget (count and weight
 * bytes): beyond it the least recently used idle one is disposed, its tensors freed. Loads of one
 * version are shared; `onChange` hears the set whenever it changes (the coordinator dispatches by it).
 */
export class ModelStore {
  private readonly loaded = new Map<string, Loaded>()
  private readonly loading = new Map<string, Promise<Loaded>>()

  constructor(
    private readonly opts: { modelsPath: string; maxModels: number; maxModelBytes: number; onChange(held: string[], evicted: number): void },
  ) {}

  get held(): string[] {
    return [...this.loaded.keys()]
  }

  /** Runs `fn` with the version loaded; it is not evicted while in use. */
  async use<T>(d: ModelDescriptor, fn: (model: Predictor) => Promise<T>): Promise<{ value: T; loadMs: number }> {
    const t0 = performance.now()
    const entry = this.loaded.get(d.id) ?? (await this.load(d))
    const loadMs = performance.now() - t0
    entry.busy++
    entry.lastUsed = performance.now()
    try {
      return { value: await fn(entry.model), loadMs }
    } finally {
      entry.busy--
    }
  }

  private load(d: ModelDescriptor): Promise<Loaded> {
    let p = this.loading.get(d.id)
    if (!p) {
      p = this.fetchAndBuild(d).finally(() => this.loading.delete(d.id))
      this.loading.set(d.id, p)
    }
    return p
  }

  private async fetchAndBuild(d: ModelDescriptor): Promise<Loaded> {
    const base = `${this.opts.modelsPath}${d.id}/`
    const [topologyFile, ...shardFiles] = d.files
    if (!topologyFile || topologyFile.path !== 'model.json') throw new Error('the descriptor does not start with model.json')
    const bodies = await Promise.all(d.files.map((f) => fetchChecked(base + f.path, f.sha256, f.bytes)))
    const json = JSON.parse(new TextDecoder().decode(bodies[0])) as {
      modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[]; format?: string; generatedBy?: string; convertedBy?: string | null
      signature?: object; userDefinedMetadata?: Record<string, object>; modelInitializer?: object; trainingConfig?: tf.io.TrainingConfig
    }
    const weightData = concat(bodies.slice(1))
    const artifacts: tf.io.ModelArtifacts = {
      modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData,
      format: json.format, generatedBy: json.generatedBy, convertedBy: json.convertedBy ?? undefined,
      signature: json.signature, userDefinedMetadata: json.userDefinedMetadata, modelInitializer: json.modelInitializer, trainingConfig: json.trainingConfig,
    }
    const handler = tf.io.fromMemory(artifacts)
    const model = d.format === 'graph' ? await loadGraphModel(handler) : await loadLayersModel(handler)
    // The graph keeps what it loaded (for save()); the weights live in wasm memory now, a JS copy would be a second one.
    const kept = (model as unknown as { artifacts?: { weightData?: unknown } }).artifacts
    if (kept) kept.weightData = undefined
    // Kernels compile on the first prediction: pay for it here, not in the first job.
    await runOnZeros(model, d)
    const entry: Loaded = { model, bytes: shardFiles.reduce((n, f) => n + f.bytes, 0), lastUsed: performance.now(), busy: 0 }
    this.loaded.set(d.id, entry)
    const evicted = this.evict(d.id)
    this.opts.onChange(this.held, evicted)
    return entry
  }

  /** Least recently used first, never the one just loaded nor one in use; how many were disposed. */
  private evict(keep: string): number {
    const total = () => [...this.loaded.values()].reduce((n, e) => n + e.bytes, 0)
    let evicted = 0
    while (this.loaded.size > this.opts.maxModels || total() > this.opts.maxModelBytes) {
      const victim = [...this.loaded.entries()].filter(([id, e]) => id !== keep && e.busy === 0).sort((a, b) => a[1].lastUsed - b[1].lastUsed)[0]
      if (!victim) break
      victim[1].model.dispose()
      this.loaded.delete(victim[0])
      evicted++
    }
    return evicted
  }
}
