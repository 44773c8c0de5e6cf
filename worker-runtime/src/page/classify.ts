import * as tf from '@tensorflow/tfjs-core'
import type { GraphModel } from '@tensorflow/tfjs-converter'
import { TOP_K, type ClassScore } from '@hivesight/protocol'
import { INPUT_SIZE } from './crop-resize.ts'

/**
 * Model input [1, 224, 224, 3] → top-k ImageNet classes. The model outputs 1001 logits, index 0 =
 * background: softmax over all of them (the model's own distribution), then rank only 1..1000, so
 * "background" is never an answer.
 */
export async function classifyInput(model: GraphModel, input: tf.Tensor4D, k = TOP_K): Promise<ClassScore[]> {
  const { values, indices } = tf.tidy(() => {
    const logits = model.predict(input) as tf.Tensor2D
    const probs = tf.softmax(logits)
    const classes = tf.slice(probs, [0, 1], [1, probs.shape[1] - 1])
    return tf.topk(classes, k)
  })
  const [scores, idx] = await Promise.all([values.data(), indices.data()])
  values.dispose()
  indices.dispose()
  return Array.from(idx, (i, n) => ({ index: i + 1, score: scores[n]! }))
}

/** One throw-away prediction so the first real job does not pay for kernel compilation. */
export async function warmUp(model: GraphModel): Promise<void> {
  const blank = tf.zeros([1, INPUT_SIZE, INPUT_SIZE, 3]) as tf.Tensor4D
  await classifyInput(model, blank, 1)
  blank.dispose()
}
