import * as tf from '@tensorflow/tfjs-core'
import type { GraphModel } from '@tensorflow/tfjs-converter'
import type { JobAssign, JobFailed, JobResult } from '@hivesight/protocol'
import { classifyPixels } from './classify.ts'
import { decodeImage, ImageDecodeError } from './decode.ts'

/** Runs one assigned job and says what to send back. Never throws: every outcome is a message. */
export async function runJob(model: GraphModel, job: JobAssign, image: Uint8Array): Promise<JobResult | JobFailed> {
  const base = { jobId: job.jobId, leaseToken: job.leaseToken }
  const t0 = performance.now()
  let pixels: tf.Tensor3D
  try {
    pixels = await decodeImage(image, job.contentType)
  } catch (err) {
    const decode = err instanceof ImageDecodeError
    return { type: 'job.failed', ...base, code: decode ? 'IMAGE_DECODE_FAILED' : 'INFERENCE_FAILED', message: String(err instanceof Error ? err.message : err).slice(0, 500), retryable: !decode }
  }
  const t1 = performance.now()
  try {
    const top = await classifyPixels(model, pixels)
    return { type: 'job.result', ...base, top, timings: { decodeMs: t1 - t0, inferMs: performance.now() - t1 } }
  } catch (err) {
    return { type: 'job.failed', ...base, code: 'INFERENCE_FAILED', message: String(err instanceof Error ? err.message : err).slice(0, 500), retryable: true }
  } finally {
    pixels.dispose()
  }
}
