import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Problem, WorkerList } from '@hivesight/protocol'
import type { ApiKeyVerifier } from '../auth/api-keys.ts'
import type { Db } from '../db/create-db.ts'
import { listWorkerViews } from '../workers/worker-view.ts'
import { requireApiKey, type AuthMode } from './auth.ts'

/**
 * Read from the database, so every coordinator lists every worker with the figures its own coordinator
 * wrote. Behind a key: names, addresses' networks and who is quarantined are nobody else's business.
 */
export const workersRoutes: FastifyPluginAsyncTypebox<{ db: Db; authMode: AuthMode; verifier: ApiKeyVerifier }> = async (app, { db, authMode, verifier }) => {
  requireApiKey(app, authMode, verifier)
  app.get('/api/v1/workers', {
    schema: { tags: ['workers'], summary: 'Connected workers: speed per connection, honesty per volunteer identity', response: { 200: WorkerList, 401: Problem } },
  }, async () => ({ workers: await listWorkerViews(db.kysely) }))
}
