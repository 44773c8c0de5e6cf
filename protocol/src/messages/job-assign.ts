import { Type, type Static } from 'typebox'

/**
 * Header of the binary `job.assign` frame (see frames/assign-frame.ts): the image bytes follow it in the
 * same frame, so a job and its image can never arrive separately.
 */
export const JobAssign = Type.Object({
  type: Type.Literal('job.assign'),
  jobId: Type.String(),
  leaseToken: Type.Integer({ minimum: 1 }),
  attempt: Type.Integer({ minimum: 1 }),
  contentType: Type.String(),
  /** The model version to run (ModelDescriptor id): the page loads it on first use. */
  model: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  /**
   * While a label splits traffic between two versions, a sample of its jobs is also run on the other one
   * (same input): the answer's `shadowTop1` gives the versions' top-1 agreement.
   */
  shadow: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
})
export type JobAssign = Static<typeof JobAssign>

/**
 * What a volunteer tab receives instead of the photo: the model's input pixels, 224 × 224 RGB bytes
 * (row-major), prepared by the coordinator as a worker page prepares a photo (crop-resize.ts); the page
 * normalises them as the model's descriptor says.
 */
export const MODEL_INPUT_CONTENT_TYPE = 'application/x.hivesight.rgb224'
export const MODEL_INPUT_BYTES = 224 * 224 * 3
