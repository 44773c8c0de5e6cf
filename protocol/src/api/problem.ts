import { Type, type Static } from 'typebox'

/** RFC 9457 problem details, with a stable machine-readable `code`. */
export const Problem = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  code: Type.String(),
  detail: Type.String(),
})
export type Problem = Static<typeof Problem>
