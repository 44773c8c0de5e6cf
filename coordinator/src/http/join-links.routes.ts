import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { JoinLinkRequest, JoinLinkView, Problem } from '@hivesight/protocol'
import type { ApiKeyVerifier } from '../auth/api-keys.ts'
import { mintJoinLink } from '../auth/join-links.ts'
import { AppError } from '../errors/app-errors.ts'
import type { Clock } from '../jobs/clock.ts'
import { requireApiKey, type AuthMode } from './auth.ts'

export interface JoinLinksRoutesOptions {
  authMode: AuthMode
  verifier: ApiKeyVerifier
  /** JOIN_TOKEN: the secret join tokens are derived from; null = volunteers need no token (open) or cannot join. */
  joinSecret: string | null
  clock: Clock
  /** PUBLIC_URL: links point there; otherwise at the Host the request came to. */
  publicUrl: string | null
}

export const joinLinksRoutes: FastifyPluginAsyncTypebox<JoinLinksRoutesOptions> = async (app, { authMode, verifier, joinSecret, clock, publicUrl }) => {
  requireApiKey(app, authMode, verifier)
  app.post('/api/v1/join-links', {
    schema: {
      tags: ['workers'],
      summary: 'Make a link that lets one browser tab volunteer as an (untrusted) worker',
      body: JoinLinkRequest,
      response: { 201: JoinLinkView, 401: Problem, 409: Problem },
    },
    // Every field has a default: an empty POST is a valid request.
    preValidation: async (req) => {
      req.body ??= {}
    },
  }, async (req, reply) => {
    const origin = publicUrl ?? `${req.protocol}://${req.host}`
    if (!joinSecret) {
      if (authMode !== 'open') throw new AppError('JOINING_DISABLED', 'volunteer tabs cannot join: start the coordinator with JOIN_TOKEN set to a long random secret')
      return reply.code(201).send({ url: `${origin}/worker`, name: 'volunteer', expiresAt: null, trusted: false, sessions: 0 })
    }
    const link = mintJoinLink(joinSecret, req.body.name ?? 'volunteer', req.body.hours ?? 24, clock.now())
    req.log.info({ name: link.name, expiresAt: link.expiresAt }, 'join link minted')
    return reply.code(201).send({ url: `${origin}${link.path}`, name: link.name, expiresAt: link.expiresAt, trusted: false, sessions: 1 })
  })
}
