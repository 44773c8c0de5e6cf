import * as tf from '@tensorflow/tfjs-core'
import { INPUT_SIZE, RESIZE_SHORTER_TO } from './crop-resize.ts'

// The model's evaluation transform written with tfjs ops: the Node reference's path, and the yardstick
// the page's plain-JS crop-resize (crop-resize.ts) is tested against.

/** RGB pixels [h, w, 3] (0..255) → model input [1, 224, 224, 3] in [0, 1]. */
export function toModelInput(pixels: tf.Tensor3D): tf.Tensor4D {
  return tf.tidy(() => {
    const [h, w] = pixels.shape
    const scale = RESIZE_SHORTER_TO / Math.min(h, w)
    const nh = Math.max(INPUT_SIZE, Math.round(h * scale))
    const nw = Math.max(INPUT_SIZE, Math.round(w * scale))
    const resized = tf.image.resizeBilinear(tf.cast(pixels, 'float32'), [nh, nw], false, true)
    const top = Math.floor((nh - INPUT_SIZE) / 2)
    const left = Math.floor((nw - INPUT_SIZE) / 2)
    const crop = tf.slice(resized, [top, left, 0], [INPUT_SIZE, INPUT_SIZE, 3])
    return tf.expandDims(tf.div(crop, 255), 0) as tf.Tensor4D
  })
}
