import { Type, type Static } from 'typebox'

export const JoinLinkRequest = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 48, description: 'who the link is for; shown as the worker name' })),
  hours: Type.Optional(Type.Integer({ minimum: 1, maximum: 720, default: 24, description: 'how long the link admits new sessions' })),
}, { additionalProperties: false })
export type JoinLinkRequest = Static<typeof JoinLinkRequest>

export const JoinLinkView = Type.Object({
  url: Type.String({ description: 'open it in any browser tab to volunteer; the token is in the #fragment' }),
  name: Type.String(),
  expiresAt: Type.Union([Type.Integer(), Type.Null()], { description: 'epoch ms; null when no token is needed (open mode)' }),
  trusted: Type.Boolean({ description: 'always false: volunteer tabs are untrusted workers' }),
  sessions: Type.Integer({ description: 'live sessions the link admits at a time (0 = no limit: open mode, no token)' }),
})
export type JoinLinkView = Static<typeof JoinLinkView>
