import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

// What a worker page can actually run. A model naming anything else would fail only on a page, after it
// was stored and rolled out, so uploads are checked against the same lists the pages' tfjs uses.

/** Graph nodes the converter's executor handles itself rather than through an op mapper. */
const GRAPH_BUILTINS = ['Placeholder', 'Const', 'NoOp', 'Identity']

let graphOps: ReadonlySet<string> | undefined

/**
 * Every `tfOpName` in the op lists @tensorflow/tfjs-converter ships (dist/operations/op_list/*.js), read
 * once. The files are ES modules in a package without "type": "module", so Node cannot import them as
 * such; they are plain object literals, and the names are read out of the text instead.
 */
export function graphOpNames(): ReadonlySet<string> {
  if (graphOps) return graphOps
  const require = createRequire(import.meta.url)
  const dir = join(dirname(require.resolve('@tensorflow/tfjs-converter/package.json')), 'dist/operations/op_list')
  const names = new Set(GRAPH_BUILTINS)
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.js')) continue
    const text = readFileSync(join(dir, file), 'utf8')
    for (const m of text.matchAll(/['"]?tfOpName['"]?\s*:\s*['"]([^'"]+)['"]/g)) names.add(m[1]!)
  }
  // An empty list would refuse every model; a changed file layout must fail loudly instead.
  if (names.size < 100) throw new Error(`found only ${names.size} graph ops under ${dir}: has the tfjs-converter layout changed?`)
  graphOps = names
  return graphOps
}

let wasmMissing: ReadonlySet<string> | undefined
/** Graph ops that reach a kernel of another name (the rest use their own name). */
const KERNEL_OF: Record<string, string> = { RFFT: 'FFT', IRFFT: 'IFFT' }

/**
 * Kernels TensorFlow.js has (its cpu backend registers them) that the wasm backend the pages run does not:
 * a graph op of that name would load and then fail on the first prediction. Read from the backends' own
 * registries (importing them registers their kernels; no wasm is started), once, in ~50 ms.
 */
export function opsWasmCannotRun(): ReadonlySet<string> {
  if (wasmMissing) return wasmMissing
  const require = createRequire(import.meta.url)
  const core = require('@tensorflow/tfjs-core') as { getKernelsForBackend(b: string): { kernelName: string }[] }
  require('@tensorflow/tfjs-backend-wasm')
  require('@tensorflow/tfjs-backend-cpu')
  const wasm = new Set(core.getKernelsForBackend('wasm').map((k) => k.kernelName))
  const all = core.getKernelsForBackend('cpu').map((k) => k.kernelName)
  if (wasm.size < 100) throw new Error(`the tfjs wasm backend registered only ${wasm.size} kernels: has its layout changed?`)
  wasmMissing = new Set(all.filter((k) => !wasm.has(k)))
  return wasmMissing
}

export const kernelOf = (op: string): string => KERNEL_OF[op] ?? op

/**
 * The layer classes @tensorflow/tfjs-layers 4.22 registers for deserialization (containers included).
 * Curated rather than read at run time so the coordinator does not load tfjs to check an upload; a test
 * compares it with the library's serialization registry, so an upgrade that changes the set is noticed.
 */
export const LAYER_CLASSES: ReadonlySet<string> = new Set([
  'InputLayer', 'Model', 'Functional', 'Sequential',
  'ReLU', 'LeakyReLU', 'PReLU', 'ELU', 'ThresholdedReLU', 'Softmax',
  'Conv1D', 'Conv2D', 'Conv3D', 'Conv2DTranspose', 'Conv3DTranspose', 'SeparableConv2D', 'DepthwiseConv2D',
  'Cropping2D', 'UpSampling2D', 'ZeroPadding2D',
  'RNN', 'SimpleRNNCell', 'SimpleRNN', 'GRUCell', 'GRU', 'LSTMCell', 'LSTM', 'StackedRNNCells', 'ConvLSTM2DCell', 'ConvLSTM2D',
  'Dropout', 'SpatialDropout1D', 'Dense', 'Flatten', 'Activation', 'RepeatVector', 'Reshape', 'Permute', 'Masking', 'Embedding',
  'Add', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Concatenate', 'Dot',
  'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'BatchNormalization', 'LayerNormalization',
  'MaxPooling1D', 'AveragePooling1D', 'MaxPooling2D', 'AveragePooling2D', 'MaxPooling3D', 'AveragePooling3D',
  'GlobalAveragePooling1D', 'GlobalMaxPooling1D', 'GlobalAveragePooling2D', 'GlobalMaxPooling2D',
  'TimeDistributed', 'Bidirectional',
  'Rescaling', 'CenterCrop', 'CategoryEncoding', 'Resizing', 'RandomWidth',
])

/** Keras layers that carry Python code (refused as code, not merely as unsupported). */
export const CODE_LAYER_CLASSES: ReadonlySet<string> = new Set(['Lambda', 'TFOpLambda'])

/** Layers whose output has the shape of their input, so the classifier's width is found before them. */
export const SHAPE_PRESERVING_LAYERS: ReadonlySet<string> = new Set([
  'Activation', 'Softmax', 'ReLU', 'LeakyReLU', 'PReLU', 'ELU', 'ThresholdedReLU',
  'Dropout', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'BatchNormalization', 'LayerNormalization',
])
