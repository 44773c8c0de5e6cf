import { Type, type Static } from 'typebox'

/** Why a worker could not classify an image. Decode errors are the image's fault: retrying cannot help. */
export const WorkerErrorCode = Type.Union([
  Type.Literal('IMAGE_DECODE_FAILED'),
  Type.Literal('IMAGE_UNSUPPORTED'),
  Type.Literal('INFERENCE_FAILED'),
])
export type WorkerErrorCode = Static<typeof WorkerErrorCode>

export const JobFailed = Type.Object({
  type: Type.Literal('job.failed'),
  jobId: Type.String({ maxLength: 36 }),
  leaseToken: Type.Integer({ minimum: 1 }),
  code: WorkerErrorCode,
  message: Type.String({ maxLength: 500 }),
  retryable: Type.Boolean(),
}, { additionalProperties: false })
export type JobFailed = Static<typeof JobFailed>
