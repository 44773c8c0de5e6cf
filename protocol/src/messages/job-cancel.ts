import { Type, type Static } from 'typebox'

/** Coordinator → worker: drop this job (it was canceled, or its lease was taken back); its slot is free. */
export const JobCancel = Type.Object({
  type: Type.Literal('job.cancel'),
  jobId: Type.String(),
  leaseToken: Type.Integer({ minimum: 1 }),
  reason: Type.String(),
})
export type JobCancel = Static<typeof JobCancel>
