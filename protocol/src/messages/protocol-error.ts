import { Type, type Static } from 'typebox'

/** Sent to a worker whose message was refused; the connection stays open unless the code says otherwise. */
export const ProtocolError = Type.Object({
  type: Type.Literal('error'),
  code: Type.String(),
  message: Type.String(),
})
export type ProtocolError = Static<typeof ProtocolError>
