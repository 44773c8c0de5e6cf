import { Type, type Static } from 'typebox'

export const JoinLinkRequest = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 48, description: 'who the link is for; shown as the worker name' })),
  hours: Type.Optional(Type.Integer({ minimum: 1, maximum: 720, default: 24, description: 'how long the link admits new sessions' })),
  sessions: Type.Optional(Type.Integer({ minimum: 1, maximum: 20, default: 1, description: 'browser tabs the link admits at once' })),
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

/** A volunteer identity's honesty record (its speed is per connection, in the workers list). */
export const VolunteerRecord = Type.Object({
  answers: Type.Integer({ description: 'answers given, spot checks included' }),
  confirmed: Type.Integer({ description: 'answers another worker agreed with' }),
  checksPassed: Type.Integer(),
  checksFailed: Type.Integer(),
  contradicted: Type.Integer({ description: 'answers a trusted worker contradicted' }),
  quarantinedAt: Type.Union([Type.Integer(), Type.Null()]),
  quarantineReason: Type.Union([Type.String(), Type.Null()]),
})
export type VolunteerRecord = Static<typeof VolunteerRecord>

/** A join link as an admin lists it (the token is never shown again). */
export const JoinLinkEntry = Type.Object({
  name: Type.String(),
  createdAt: Type.Integer(),
  expiresAt: Type.Integer(),
  revokedAt: Type.Union([Type.Integer(), Type.Null()]),
  sessions: Type.Integer({ description: 'tabs the link admits at once' }),
  liveSessions: Type.Integer({ description: 'tabs connected with it now' }),
  record: Type.Union([VolunteerRecord, Type.Null()], { description: 'null until a tab of it answers' }),
})
export type JoinLinkEntry = Static<typeof JoinLinkEntry>
export const JoinLinkList = Type.Object({ links: Type.Array(JoinLinkEntry) })
export type JoinLinkList = Static<typeof JoinLinkList>
