import { Type, type Static } from 'typebox'
import { NUM_CLASSES, TOP_K } from './limits.ts'

/**
 * Top-k class indices with softmax scores. The worker sends indices, not label strings: the coordinator
 * owns the label table, checks the range, and a volunteer tab cannot invent label text.
 */
export const ClassScore = Type.Object({
  index: Type.Integer({ minimum: 1, maximum: NUM_CLASSES - 1 }),
  score: Type.Number({ minimum: 0, maximum: 1 }),
}, { additionalProperties: false })
export type ClassScore = Static<typeof ClassScore>

export const JobTimings = Type.Object({
  decodeMs: Type.Number({ minimum: 0, maximum: 600_000 }),
  inferMs: Type.Number({ minimum: 0, maximum: 600_000 }),
}, { additionalProperties: false })
export type JobTimings = Static<typeof JobTimings>

export const JobResult = Type.Object({
  type: Type.Literal('job.result'),
  jobId: Type.String({ maxLength: 36 }),
  leaseToken: Type.Integer({ minimum: 1 }),
  top: Type.Array(ClassScore, { minItems: 1, maxItems: TOP_K }),
  timings: JobTimings,
}, { additionalProperties: false })
export type JobResult = Static<typeof JobResult>
