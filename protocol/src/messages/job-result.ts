import { Type, type Static } from 'typebox'
import { MAX_MODEL_OUTPUTS, TOP_K } from './limits.ts'

/**
 * Top-k output indices with scores. The worker sends indices, not label strings: the coordinator owns each
 * model version's label table, checks the range against it, and a volunteer tab cannot invent label text.
 */
export const ClassScore = Type.Object({
  index: Type.Integer({ minimum: 0, maximum: MAX_MODEL_OUTPUTS - 1 }),
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
  /** The model version that answered: the one the job was assigned with. */
  model: Type.String({ maxLength: 64 }),
  top: Type.Array(ClassScore, { minItems: 1, maxItems: TOP_K }),
  timings: JobTimings,
  /** The shadow version's top-1 output index, when the job was assigned with one. */
  shadowTop1: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_MODEL_OUTPUTS - 1 })),
}, { additionalProperties: false })
export type JobResult = Static<typeof JobResult>
