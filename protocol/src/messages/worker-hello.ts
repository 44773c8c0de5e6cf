import { Type, type Static } from 'typebox'
import { MAX_SLOTS_PER_WORKER, PROTOCOL_VERSION } from './limits.ts'

/** First message of a worker after its model is loaded: it is ready for `slots` jobs at once. */
export const WorkerHello = Type.Object({
  type: Type.Literal('worker.hello'),
  protocol: Type.Literal(PROTOCOL_VERSION),
  kind: Type.Union([Type.Literal('headless'), Type.Literal('browser')]),
  slots: Type.Integer({ minimum: 1, maximum: MAX_SLOTS_PER_WORKER }),
  name: Type.Optional(Type.String({ maxLength: 100 })),
  userAgent: Type.Optional(Type.String({ maxLength: 400 })),
  backend: Type.String({ maxLength: 20 }),
  threads: Type.Integer({ minimum: 1, maximum: 256 }),
  simd: Type.Boolean(),
  /** Worker token (headless runtimes) or join token (volunteer tabs); required unless the coordinator is open. */
  token: Type.Optional(Type.String({ maxLength: 200 })),
}, { additionalProperties: false })
export type WorkerHello = Static<typeof WorkerHello>
