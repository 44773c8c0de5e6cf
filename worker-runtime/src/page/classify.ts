import * as tf from '@tensorflow/tfjs-core'
import { TOP_K, type ClassScore, type ModelDescriptor } from '@hivesight/protocol'

/** What both tfjs model kinds (graph and layers) offer for a prediction. */
export interface Predictor { predict(x: tf.Tensor): tf.Tensor | tf.Tensor[] | tf.NamedTensorMap }

/** The first output, flattened: classifiers have one. */
function firstOutput(raw: tf.Tensor | tf.Tensor[] | tf.NamedTensorMap): tf.Tensor1D {
  const t = raw instanceof tf.Tensor ? raw : Array.isArray(raw) ? raw[0]! : Object.values(raw)[0]!
  return tf.reshape(t, [-1])
}

type Outputs = Pick<ModelDescriptor, 'labelOffset' | 'softmax'>

/**
 * Model input → top-k classes. Softmax over every output (the model's own distribution, MobileNet's
 * background included) when the model gives logits; then only outputs from `labelOffset` on are ranked, so
 * a non-class (MobileNet's background) is never an answer. Indices are output indices.
 */
export async function classifyInput(model: Predictor, input: tf.Tensor, d: Outputs, k = TOP_K): Promise<ClassScore[]> {
  const { values, indices } = tf.tidy(() => {
    const out = tf.expandDims(firstOutput(model.predict(input)), 0) as tf.Tensor2D
    const probs = d.softmax ? tf.softmax(out) : out
    const classes = tf.slice(probs, [0, d.labelOffset], [1, probs.shape[1] - d.labelOffset])
    return tf.topk(classes, Math.min(k, classes.shape[1]))
  })
  const [scores, idx] = await Promise.all([values.data(), indices.data()])
  values.dispose()
  indices.dispose()
  // A probability the model computed in float32 may round a hair above 1.
  return Array.from(idx, (i, n) => ({ index: i + d.labelOffset, score: Math.min(1, Math.max(0, scores[n]!)) }))
}

/** Zeros in, every output: how many there are and whether all are finite (the smoke test, and the warm-up). */
export async function runOnZeros(model: Predictor, d: Pick<ModelDescriptor, 'preprocessing'>): Promise<{ outputs: number; finite: boolean }> {
  const { inputSize, channels } = d.preprocessing
  const values = tf.tidy(() => firstOutput(model.predict(tf.zeros([1, inputSize, inputSize, channels]))))
  const data = (await values.data()) as Float32Array
  values.dispose()
  return { outputs: data.length, finite: data.every((v: number) => Number.isFinite(v)) }
}
