import { Type, type Static } from 'typebox'

/** The coordinator's answer to `worker.hello`: the id it will list the worker under. */
export const WorkerWelcome = Type.Object({
  type: Type.Literal('worker.welcome'),
  workerId: Type.String(),
  slots: Type.Integer({ minimum: 1 }),
})
export type WorkerWelcome = Static<typeof WorkerWelcome>
