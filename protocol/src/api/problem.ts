import { Type, type Static } from 'typebox'

/** RFC 9457 problem details, with a stable machine-readable `code`. */
export const Problem = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  code: Type.String(),
  detail: Type.String(),
  /** Several things wrong at once (a model upload): which file, which rule, in words. */
  problems: Type.Optional(Type.Array(Type.Object({ file: Type.String(), rule: Type.String(), message: Type.String() }))),
})
export type Problem = Static<typeof Problem>
