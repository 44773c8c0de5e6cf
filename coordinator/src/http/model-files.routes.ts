import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { AppError } from '../errors/app-errors.ts'
import type { ModelRepository } from '../models/model-repository.ts'

const IMMUTABLE = 'public, max-age=31536000, immutable'
const Params = Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{64}$' }), file: Type.String({ pattern: '^[A-Za-z0-9._-]{1,100}$' }) })

/** If-None-Match by weak comparison (RFC 9110 §13.1.2): `*`, or any listed tag, W/ or not (proxies weaken tags). */
function notModified(header: string | undefined, etag: string): boolean {
  return (header ?? '').split(',').some((t) => {
    const tag = t.trim()
    return tag === '*' || tag.replace(/^W\//, '') === etag
  })
}

/**
 * A version's files for worker pages, from any coordinator (they live in the shared database). A version
 * never changes, so its URLs are immutable and each file's ETag is its sha256 (the page checks it too).
 * Pages are not API clients: like the worker page itself, these need no key (a model is not a secret
 * the workers that run it could keep).
 */
export const modelFilesRoutes: FastifyPluginAsyncTypebox<{ models: ModelRepository }> = async (app, { models }) => {
  app.get('/models/v/:id/descriptor.json', { schema: { hide: true, params: Type.Object({ id: Params.properties.id }) } }, async (req, reply) => {
    const v = await models.byId(req.params.id)
    if (!v) throw new AppError('MODEL_NOT_FOUND', `no model version ${req.params.id}`)
    return reply.header('cache-control', IMMUTABLE).send(v.descriptor)
  })

  app.get('/models/v/:id/:file', { schema: { hide: true, params: Params } }, async (req, reply) => {
    const f = await models.file(req.params.id, req.params.file)
    if (!f) throw new AppError('MODEL_NOT_FOUND', `model version ${req.params.id} has no file ${req.params.file}`)
    const etag = `"${f.sha256}"`
    reply.header('cache-control', IMMUTABLE).header('etag', etag)
    if (notModified(req.headers['if-none-match'], etag)) return reply.code(304).send()
    const type = req.params.file.endsWith('.json') ? 'application/json' : 'application/octet-stream'
    return reply.type(type).send(f.bytes)
  })
}
