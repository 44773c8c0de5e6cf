import { Type, type Static } from 'typebox'

export const WorkerView = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('headless'), Type.Literal('browser')]),
  trusted: Type.Boolean({ description: 'a headless runtime with a worker token; volunteer tabs (join links) are not' }),
  name: Type.Union([Type.String(), Type.Null()]),
  slots: Type.Integer(),
  busy: Type.Integer({ description: 'jobs currently leased to this worker' }),
  connectedAt: Type.Integer(),
  lastSeenAt: Type.Integer(),
  jobsDone: Type.Integer(),
  backend: Type.String(),
  threads: Type.Integer(),
})
export type WorkerView = Static<typeof WorkerView>
export const WorkerList = Type.Object({ workers: Type.Array(WorkerView) })
export type WorkerList = Static<typeof WorkerList>
