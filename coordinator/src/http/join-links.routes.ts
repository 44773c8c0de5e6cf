import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { JoinLinkList, JoinLinkRequest, JoinLinkView, Problem } from '@hivesight/protocol'
import { Type } from 'typebox'
import type { ApiKeyVerifier } from '../auth/api-keys.ts'
import type { JoinLinkService } from '../auth/join-link-service.ts'
import { AppError } from '../errors/app-errors.ts'
import { requireApiKey, type AuthMode } from './auth.ts'

export interface JoinLinksRoutesOptions {
  authMode: AuthMode
  verifier: ApiKeyVerifier
  /** null when JOIN_TOKEN is not set: volunteers need no token (open mode) or cannot join. */
  links: JoinLinkService | null
  /** PUBLIC_URL: links point there; otherwise at the Host the request came to. */
  publicUrl: string | null
}

/** Join links are made, listed and revoked by admin keys (open mode has no keys: anyone who reaches it). */
export const joinLinksRoutes: FastifyPluginAsyncTypebox<JoinLinksRoutesOptions> = async (app, { authMode, verifier, links, publicUrl }) => {
  requireApiKey(app, authMode, verifier)
  app.addHook('preHandler', async (req) => {
    if (authMode === 'keys' && !req.principal?.admin) {
      throw new AppError('ADMIN_KEY_REQUIRED', 'join links are made by an admin key: create one with `npm run keys -- create --name NAME --admin`')
    }
  })
  const enabled = (): JoinLinkService => {
    if (links) return links
    throw new AppError('JOINING_DISABLED', 'join links need JOIN_TOKEN: start the coordinator with JOIN_TOKEN set to a long random secret')
  }

  app.post('/api/v1/join-links', {
    schema: {
      tags: ['workers'],
      summary: 'Make a link that lets browser tabs volunteer as (untrusted) workers',
      body: JoinLinkRequest,
      response: { 201: JoinLinkView, 401: Problem, 403: Problem, 409: Problem },
    },
    // Every field has a default: an empty POST is a valid request.
    preValidation: async (req) => {
      req.body ??= {}
    },
  }, async (req, reply) => {
    const origin = publicUrl ?? `${req.protocol}://${req.host}`
    if (!links && authMode === 'open') return reply.code(201).send({ url: `${origin}/worker`, name: 'volunteer', expiresAt: null, trusted: false, sessions: 0 })
    const link = await enabled().mint(req.body.name ?? 'volunteer', req.body.hours ?? 24, req.body.sessions ?? 1, req.principal?.keyId ?? null)
    req.log.info({ name: link.name, expiresAt: link.expiresAt, sessions: link.sessions }, 'join link minted')
    return reply.code(201).send({ url: `${origin}${link.path}`, name: link.name, expiresAt: link.expiresAt, trusted: false, sessions: link.sessions })
  })

  app.get('/api/v1/join-links', {
    schema: { tags: ['workers'], summary: 'Join links, newest first, with what their tabs did', response: { 200: JoinLinkList, 401: Problem, 403: Problem, 409: Problem } },
  }, async () => ({ links: await enabled().list() }))

  app.delete('/api/v1/join-links/:name', {
    schema: {
      tags: ['workers'],
      summary: 'Revoke a join link: its tabs are closed on every coordinator and it admits no new one',
      params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 120 }) }),
      response: { 204: Type.Null(), 401: Problem, 403: Problem, 404: Problem, 409: Problem },
    },
  }, async (req, reply) => {
    if (!(await enabled().revoke(req.params.name))) throw new AppError('JOIN_LINK_NOT_FOUND', `no active join link named ${req.params.name}`)
    return reply.code(204).send(null)
  })
}
