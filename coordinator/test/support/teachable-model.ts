import '@tensorflow/tfjs-backend-cpu'
import * as tf from '@tensorflow/tfjs-core'
import * as tfl from '@tensorflow/tfjs-layers'
import type { UploadedModelFile } from '../../src/models/model-validator.ts'

// A real (if tiny) tfjs layers model in the shape of a Teachable Machine image export, so model uploads can
// be tested end to end without a trained network: it tells pictures apart by their average colour.

/** Fixed so that two calls give the same bytes (and so the same version id). */
const TIME_STAMP = '2025-01-01T00:00:00.000Z'

export async function makeTeachableModel(opts: { labels?: string[]; imageSize?: number } = {}): Promise<{ files: UploadedModelFile[]; labels: string[] }> {
  const labels = opts.labels ?? ['red', 'green', 'blue']
  const imageSize = opts.imageSize ?? 224
  await tf.setBackend('cpu')
  // Names given explicitly: tfjs otherwise numbers layers with a process-wide counter.
  const model = tfl.sequential({
    name: 'sequential_1',
    layers: [
      tfl.layers.globalAveragePooling2d({ name: 'global_average_pooling2d_1', batchInputShape: [null, imageSize, imageSize, 3] }),
      tfl.layers.dense({ name: 'dense_1', units: labels.length, activation: 'softmax' }),
    ],
  })
  // Class j scores 10 × the mean of channel j (inputs are (v − 127) / 127, so −1..1): the strongest channel
  // wins, and labels past the third never do.
  const kernel = tf.tensor2d([0, 1, 2].map((c) => labels.map((_, j) => (j === c ? 10 : 0))))
  const bias = tf.zeros([labels.length])
  model.setWeights([kernel, bias])
  tf.dispose([kernel, bias])

  let saved: tf.io.ModelArtifacts | undefined
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts
    return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } }
  }))
  model.dispose()
  if (!saved?.weightData || !saved.weightSpecs) throw new Error('tfjs saved no weights')

  // What TM's "Download my model" zip holds, field for field.
  const modelJson = {
    modelTopology: saved.modelTopology,
    format: 'layers-model',
    generatedBy: saved.generatedBy,
    convertedBy: saved.convertedBy ?? null,
    weightsManifest: [{ paths: ['weights.bin'], weights: saved.weightSpecs }],
  }
  const metadata = {
    tfjsVersion: tf.version_core,
    tmVersion: '2.4.10',
    packageVersion: '0.8.4',
    packageName: '@teachablemachine/image',
    modelName: 'tm-my-image-model',
    timeStamp: TIME_STAMP,
    labels,
    imageSize,
    userMetadata: {},
  }
  const weights = Buffer.from(tf.io.CompositeArrayBuffer.join(saved.weightData))
  return {
    files: [
      { name: 'model.json', bytes: Buffer.from(JSON.stringify(modelJson)) },
      { name: 'weights.bin', bytes: weights },
      { name: 'metadata.json', bytes: Buffer.from(JSON.stringify(metadata)) },
    ],
    labels,
  }
}
