import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter'
import type { ClassScore } from '@hivesight/protocol'
import { pageAssets } from '@hivesight/worker-runtime'
import { classifyInput } from '@hivesight/worker-runtime/classify'

/** MobileNet V2's outputs: 1001 logits, index 0 = background (never an answer). */
const MOBILENET_OUTPUTS = { labelOffset: 1, softmax: true }
import { toModelInput } from '@hivesight/worker-runtime/preprocess'
import sharp from 'sharp'

interface ModelJson {
  modelTopology: object
  format?: string
  generatedBy?: string
  convertedBy?: string
  signature?: object
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[]
}

/**
 * The same model and top-k code as the worker page, run in Node on the same tfjs wasm backend: the yardstick
 * that says whether the browser path changed an answer. Images are decoded with sharp (libvips/libjpeg-turbo)
 * instead of the browser's decoder, and resized with tfjs ops instead of the page's plain-JS crop-resize.
 */
export class NodeClassifier {
  private constructor(private readonly model: GraphModel) {}

  static async load(modelDir: string): Promise<NodeClassifier> {
    setWasmPaths(`${pageAssets.wasmDir}/`)
    await tf.setBackend('wasm')
    await tf.ready()
    if (tf.getBackend() !== 'wasm') throw new Error('the tfjs wasm backend did not start in Node')
    const json = JSON.parse(await readFile(join(modelDir, 'model.json'), 'utf8')) as ModelJson
    const shards = await Promise.all(json.weightsManifest.flatMap((g) => g.paths).map((p) => readFile(join(modelDir, p))))
    const weightData = new Uint8Array(Buffer.concat(shards)).buffer
    const model = await loadGraphModel(tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData,
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy,
    }))
    return new NodeClassifier(model)
  }

  async classify(bytes: Uint8Array): Promise<ClassScore[]> {
    const input = await this.modelInput(bytes)
    try {
      return await classifyInput(this.model, input, MOBILENET_OUTPUTS)
    } finally {
      input.dispose()
    }
  }

  /** A prepared input (224 × 224 RGB in [0, 1], row-major), as a volunteer tab receives it, classified. */
  async classifyPrepared(input: Float32Array): Promise<ClassScore[]> {
    const t = tf.tensor4d(input, [1, 224, 224, 3])
    try {
      return await classifyInput(this.model, t, MOBILENET_OUTPUTS)
    } finally {
      t.dispose()
    }
  }

  /** An image file as the model's input [1, 224, 224, 3], with the tfjs-ops transform (not the page's JS one). */
  async modelInput(bytes: Uint8Array): Promise<tf.Tensor4D> {
    // rotate(): apply EXIF orientation like the browser; keep stored values (no ICC transform), 3 channels.
    const { data, info } = await sharp(bytes).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true })
    const pixels = tf.tensor3d(new Int32Array(data), [info.height, info.width, 3], 'int32')
    try {
      return toModelInput(pixels)
    } finally {
      pixels.dispose()
    }
  }

  /** One forward pass and nothing else; the logits are read back so that the work is surely done. */
  async predictOnly(input: tf.Tensor4D): Promise<void> {
    await this.logits(input)
  }

  /** The model's 1001 raw outputs for one input (index 0 = background), for checks that rank them on their own. */
  async logits(input: tf.Tensor4D): Promise<Float32Array> {
    const out = this.model.predict(input) as tf.Tensor
    try {
      return (await out.data()) as Float32Array
    } finally {
      out.dispose()
    }
  }
}
