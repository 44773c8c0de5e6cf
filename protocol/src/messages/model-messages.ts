import { Type, type Static } from 'typebox'

const VersionId = Type.String({ pattern: '^[0-9a-f]{64}$' })

/** Worker → coordinator, whenever the set changes: the model versions it holds loaded (dispatch prefers them). */
export const WorkerModels = Type.Object({
  type: Type.Literal('worker.models'),
  held: Type.Array(VersionId, { maxItems: 32 }),
}, { additionalProperties: false })
export type WorkerModels = Static<typeof WorkerModels>

/** Coordinator → trusted worker: load this new version and run it once on zeros (the smoke test before READY). */
export const ModelCheck = Type.Object({
  type: Type.Literal('model.check'),
  model: VersionId,
})
export type ModelCheck = Static<typeof ModelCheck>

/** Worker → coordinator: how the smoke test went. `ok: false` with the reason the page met (a missing kernel, NaN outputs…). */
export const ModelChecked = Type.Object({
  type: Type.Literal('model.checked'),
  model: VersionId,
  ok: Type.Boolean(),
  reason: Type.Optional(Type.String({ maxLength: 1000 })),
  loadMs: Type.Number({ minimum: 0 }),
  inferMs: Type.Number({ minimum: 0 }),
  /** How many outputs the model produced (checked against the manifest). */
  outputs: Type.Integer({ minimum: 0 }),
}, { additionalProperties: false })
export type ModelChecked = Static<typeof ModelChecked>
