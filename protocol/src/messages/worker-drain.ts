import { Type, type Static } from 'typebox'

/** Worker → coordinator: send me nothing more; I finish what I hold (or hand it back) and leave. */
export const WorkerDrain = Type.Object({ type: Type.Literal('worker.drain') }, { additionalProperties: false })
export type WorkerDrain = Static<typeof WorkerDrain>

/** Worker → coordinator: I will not run this job (draining); queue it again without counting an attempt. */
export const JobRelease = Type.Object({
  type: Type.Literal('job.release'),
  jobId: Type.String({ maxLength: 36 }),
  leaseToken: Type.Integer({ minimum: 1 }),
}, { additionalProperties: false })
export type JobRelease = Static<typeof JobRelease>
