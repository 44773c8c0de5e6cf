import { Type, type Static } from 'typebox'

/** The coordinator's answer to `worker.hello`: the id it will list the worker under. */
export const WorkerWelcome = Type.Object({
  type: Type.Literal('worker.welcome'),
  workerId: Type.String(),
  slots: Type.Integer({ minimum: 1 }),
  /** The coordinator sends `coordinator.heartbeat` this often; a worker that hears nothing for 3× reconnects. */
  heartbeatMs: Type.Integer({ minimum: 100 }),
})
export type WorkerWelcome = Static<typeof WorkerWelcome>
