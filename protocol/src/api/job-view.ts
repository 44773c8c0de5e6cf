import { Type, type Static } from 'typebox'
import { ModelRef } from './model.ts'

export const JobStatus = Type.Union([
  Type.Literal('queued'),
  Type.Literal('running'),
  Type.Literal('succeeded'),
  Type.Literal('failed'),
  Type.Literal('canceled'),
  Type.Literal('dead'),
], { description: 'dead: every attempt was used up; POST /api/v1/jobs/{id}/retry queues it again' })
export type JobStatus = Static<typeof JobStatus>
export const TERMINAL_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'canceled', 'dead']

export const Prediction = Type.Object({
  wnid: Type.String({ description: 'Class id: the WordNet id for ImageNet models (e.g. n02123045), else the label' }),
  label: Type.String({ description: 'Human-readable class name(s)' }),
  score: Type.Number({ description: "Probability over the model's outputs" }),
})
export type Prediction = Static<typeof Prediction>

export const JobResultView = Type.Object({
  predictions: Type.Array(Prediction),
  model: ModelRef,
  decodeMs: Type.Number(),
  inferMs: Type.Number(),
})
export type JobResultView = Static<typeof JobResultView>

export const JobErrorView = Type.Object({ code: Type.String(), message: Type.String() })

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])

export const JobView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  status: JobStatus,
  filename: Nullable(Type.String()),
  contentType: Type.String({ description: 'of the upload (what is stored for the workers may be a shrunk copy or the model input)' }),
  bytes: Type.Integer({ description: 'of the upload' }),
  width: Type.Integer({ description: 'of the upload, as its header says' }),
  height: Type.Integer(),
  priority: Type.Integer(),
  attempts: Type.Integer(),
  submittedAt: Type.Integer({ description: 'epoch milliseconds' }),
  startedAt: Nullable(Type.Integer()),
  finishedAt: Nullable(Type.Integer()),
  workerId: Nullable(Type.String()),
  /** The model version the job runs on (chosen at submit: ?model=NAME[@VERSION|@LABEL]). */
  model: Nullable(ModelRef),
  result: Nullable(JobResultView),
  error: Nullable(JobErrorView),
})
export type JobView = Static<typeof JobView>

export const SubmittedJob = Type.Object({
  id: Type.String({ format: 'uuid' }),
  status: JobStatus,
  filename: Nullable(Type.String()),
  url: Type.String(),
})
export const SubmitResponse = Type.Object({ jobs: Type.Array(SubmittedJob) })
export type SubmitResponse = Static<typeof SubmitResponse>

export const JobPage = Type.Object({
  jobs: Type.Array(JobView),
  nextCursor: Nullable(Type.String()),
})
export type JobPage = Static<typeof JobPage>
