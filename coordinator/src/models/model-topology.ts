import type { ModelFormat } from '@hivesight/protocol'
import { CODE_LAYER_CLASSES, graphOpNames, kernelOf, LAYER_CLASSES, opsWasmCannotRun, SHAPE_PRESERVING_LAYERS } from './model-ops.ts'
import type { ModelManifest, ModelProblem } from './model-validator.ts'

// What model.json's modelTopology says about the network: its format, its input and output shapes, and
// the ops or layers it needs. Everything is read from untrusted JSON, hence the defensive walking.

type Json = Record<string, unknown>
/** A shape with unknown dimensions (−1, null) as null; null for the whole shape when the rank is unknown. */
type Dims = (number | null)[] | null

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])
const showDims = (d: Dims) => (d === null ? 'an unknown shape' : `[${d.map((x) => (x === null ? -1 : x)).join(', ')}]`)

export function detectFormat(model: Json): { ok: true; format: ModelFormat } | { ok: false; message: string } {
  const topo = model.modelTopology
  if (!isObj(topo)) return { ok: false, message: 'model.json has no modelTopology object; it is not a TensorFlow.js model.' }
  const looksGraph = Array.isArray(topo.node)
  const looksLayers = isObj(topo.model_config) || typeof topo.class_name === 'string'
  if (model.format === 'graph-model') {
    return looksGraph ? { ok: true, format: 'graph' } : { ok: false, message: 'model.json says format "graph-model" but its modelTopology has no node list.' }
  }
  if (model.format === 'layers-model') {
    return looksLayers ? { ok: true, format: 'layers' } : { ok: false, message: 'model.json says format "layers-model" but its modelTopology has no model_config or class_name.' }
  }
  if (model.format !== undefined) return { ok: false, message: `model.json has format ${JSON.stringify(model.format)}; only "graph-model" and "layers-model" are supported.` }
  if (looksGraph) return { ok: true, format: 'graph' }
  if (looksLayers) return { ok: true, format: 'layers' }
  return { ok: false, message: 'model.json has no format and its modelTopology is neither a graph (node) nor a layers model (model_config, class_name).' }
}

/** A TensorShapeProto in JSON: dim[].size as strings or numbers, −1 unknown; an omitted size is 0. */
function protoDims(shape: unknown): Dims {
  if (!isObj(shape) || shape.unknownRank === true) return null
  return list(shape.dim).map((d) => {
    const n = Number(isObj(d) ? (d.size ?? 0) : Number.NaN)
    return Number.isInteger(n) && n >= 0 ? n : null
  })
}

const kerasDims = (v: unknown[]): Dims => v.map((x) => (typeof x === 'number' && Number.isInteger(x) && x >= 0 ? x : null))

function checkInput(inputs: { name: string; dims: Dims }[], manifest: ModelManifest, manifestFile: string): ModelProblem[] {
  const { inputSize: s, channels: c } = manifest.preprocessing
  const wanted = `[-1, ${s}, ${s}, ${c}] (from ${manifestFile})`
  if (inputs.length !== 1) {
    return [{ file: 'model.json', rule: 'input-shape', message: `model.json declares ${inputs.length} inputs; an image classifier takes exactly one, of shape ${wanted}.` }]
  }
  const { name, dims } = inputs[0]!
  const ok = dims !== null && dims.length === 4 && (dims[0] === null || dims[0] === 1) && dims[1] === s && dims[2] === s && dims[3] === c
  return ok ? [] : [{ file: 'model.json', rule: 'input-shape', message: `model.json input ${name} has ${showDims(dims)}; it must be ${wanted}.` }]
}

const outputProblem = (what: string, got: number, manifest: ModelManifest, manifestFile: string): ModelProblem => ({
  file: 'model.json',
  rule: 'output-size',
  message: `model.json ${what} gives ${got} outputs, but ${manifestFile} describes ${manifest.outputs} (${manifest.labels.length} labels + labelOffset ${manifest.labelOffset}).`,
})

function graphNodes(topo: Json): Json[] {
  const fns = isObj(topo.library) ? list(topo.library.function) : []
  return [...list(topo.node), ...fns.flatMap((f) => (isObj(f) ? list(f.nodeDef) : []))].filter(isObj)
}

/** Ops, input and output of a graph model. `manifest` null: the shape checks are skipped (it is already refused). */
export function checkGraph(model: Json, manifest: ModelManifest | null, manifestFile: string): ModelProblem[] {
  const topo = model.modelTopology as Json
  const problems: ModelProblem[] = []
  const known = graphOpNames()
  const noWasm = opsWasmCannotRun()
  const unknown = new Map<string, number>()
  const notOnWasm = new Map<string, number>()
  for (const node of graphNodes(topo)) {
    const op = typeof node.op === 'string' ? node.op : '(none)'
    if (!known.has(op)) unknown.set(op, (unknown.get(op) ?? 0) + 1)
    else if (noWasm.has(kernelOf(op))) notOnWasm.set(op, (notOnWasm.get(op) ?? 0) + 1)
  }
  for (const [op, n] of unknown) {
    problems.push({ file: 'model.json', rule: 'unsupported-op', message: `model.json uses the op ${JSON.stringify(op)} (${n} node${n === 1 ? '' : 's'}), which TensorFlow.js cannot run.` })
  }
  for (const [op, n] of notOnWasm) {
    problems.push({ file: 'model.json', rule: 'unsupported-op', message: `model.json uses the op ${JSON.stringify(op)} (${n} node${n === 1 ? '' : 's'}), which TensorFlow.js has but its WebAssembly backend, the one worker pages run, does not.` })
  }
  if (!manifest) return problems
  const sig = isObj(model.signature) ? model.signature : {}
  const sigInputs = isObj(sig.inputs) ? Object.entries(sig.inputs) : []
  const inputs = sigInputs.length > 0
    ? sigInputs.map(([name, t]) => ({ name, dims: isObj(t) ? protoDims(t.tensorShape) : null }))
    : list(topo.node).filter(isObj).filter((n) => n.op === 'Placeholder').map((n) => ({
      name: String(n.name),
      dims: isObj(n.attr) && isObj(n.attr.shape) ? protoDims(n.attr.shape.shape) : null,
    }))
  problems.push(...checkInput(inputs, manifest, manifestFile))
  // An output of unknown width is left to the smoke test on a real page.
  for (const [name, t] of isObj(sig.outputs) ? Object.entries(sig.outputs) : []) {
    const last = (isObj(t) ? protoDims(t.tensorShape) : null)?.at(-1)
    if (typeof last === 'number' && last > 0 && last !== manifest.outputs) problems.push(outputProblem(`output ${name}`, last, manifest, manifestFile))
  }
  return problems
}

interface Layer { className: string; name: string; config: unknown }

function asLayer(v: unknown): Layer | null {
  if (!isObj(v) || typeof v.class_name !== 'string') return null
  const cfg = v.config
  const name = typeof v.name === 'string' ? v.name : isObj(cfg) && typeof cfg.name === 'string' ? cfg.name : v.class_name
  return { className: v.class_name, name, config: cfg }
}

/** Keys under which a layer config nests further layers (containers, wrappers, RNN cells). */
const CHILD_KEYS = ['layers', 'layer', 'cell', 'cells']

function children(layer: Layer): Layer[] {
  // Old Keras wrote a Sequential's config as the bare layer list.
  if (Array.isArray(layer.config)) return layer.config.map(asLayer).filter((l) => l !== null)
  if (!isObj(layer.config)) return []
  const cfg = layer.config
  return CHILD_KEYS.flatMap((k) => (Array.isArray(cfg[k]) ? cfg[k] : [cfg[k]])).map(asLayer).filter((l) => l !== null)
}

/** A "function" or "code" key anywhere in a layer's own config (nested layers are visited on their own). */
function hasCodeField(v: unknown, top = true): string | null {
  if (Array.isArray(v)) {
    for (const x of v) {
      const k = hasCodeField(x, false)
      if (k) return k
    }
  } else if (isObj(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (k === 'function' || k === 'code') return k
      if (top && CHILD_KEYS.includes(k)) continue
      const found = hasCodeField(x, false)
      if (found) return found
    }
  }
  return null
}

const isContainer = (l: Layer) => l.className === 'Sequential' || l.className === 'Model' || l.className === 'Functional'

/** The layer a Functional model names first in input_layers / output_layers ([[name, node, tensor], …]). */
function endpoint(model: Layer, key: 'input_layers' | 'output_layers'): Layer | undefined {
  const cfg = isObj(model.config) ? model.config : {}
  const refs = list(cfg[key])
  const first = list(refs[0])[0]
  return children(model).find((l) => l.name === first)
}

function layerInputDims(layer: Layer): Dims | undefined {
  if (isObj(layer.config)) {
    for (const key of ['batch_input_shape', 'batchInputShape', 'batch_shape']) {
      const v = layer.config[key]
      if (Array.isArray(v)) return kerasDims(v)
    }
  }
  if (!isContainer(layer)) return undefined
  const kids = children(layer)
  const first = layer.className === 'Sequential' ? kids[0] : (endpoint(layer, 'input_layers') ?? kids.find((l) => l.className === 'InputLayer'))
  return first ? layerInputDims(first) : undefined
}

/** The classifier's width: the last Dense `units`, looking past activations and dropout; undefined if unknown. */
function layerOutputUnits(layer: Layer): number | undefined {
  if (layer.className === 'Sequential') {
    const last = children(layer).reverse().find((l) => !SHAPE_PRESERVING_LAYERS.has(l.className))
    return last ? layerOutputUnits(last) : undefined
  }
  if (isContainer(layer)) {
    const out = endpoint(layer, 'output_layers')
    return out && !SHAPE_PRESERVING_LAYERS.has(out.className) ? layerOutputUnits(out) : undefined
  }
  const units = isObj(layer.config) ? layer.config.units : undefined
  return typeof units === 'number' ? units : undefined
}

/** Layer classes, code, input and output of a layers model. */
export function checkLayers(model: Json, manifest: ModelManifest | null, manifestFile: string): ModelProblem[] {
  const topo = model.modelTopology as Json
  const root = asLayer(isObj(topo.model_config) ? topo.model_config : topo)
  if (!root) return [{ file: 'model.json', rule: 'unknown-format', message: 'model.json modelTopology does not describe a layers model (no class_name).' }]
  const problems: ModelProblem[] = []
  const unknown = new Set<string>()
  const visit = (layer: Layer) => {
    if (CODE_LAYER_CLASSES.has(layer.className)) {
      problems.push({ file: 'model.json', rule: 'code', message: `model.json layer "${layer.name}" is a ${layer.className} layer, which carries Python code; models with code are refused.` })
    } else if (!LAYER_CLASSES.has(layer.className)) unknown.add(layer.className)
    const key = CODE_LAYER_CLASSES.has(layer.className) ? null : hasCodeField(layer.config)
    if (key) problems.push({ file: 'model.json', rule: 'code', message: `model.json layer "${layer.name}" has a "${key}" field in its config; models with code are refused.` })
    children(layer).forEach(visit)
  }
  visit(root)
  for (const c of unknown) {
    problems.push({ file: 'model.json', rule: 'unsupported-op', message: `model.json uses the layer class ${JSON.stringify(c)}, which TensorFlow.js layers cannot load.` })
  }
  if (!manifest) return problems
  const dims = layerInputDims(root)
  problems.push(...checkInput([{ name: `of layer "${root.name}"`, dims: dims ?? null }], manifest, manifestFile))
  const units = layerOutputUnits(root)
  if (units !== undefined && units !== manifest.outputs) problems.push(outputProblem('last Dense layer', units, manifest, manifestFile))
  return problems
}
