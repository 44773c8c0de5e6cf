import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Problem, WorkerList } from '@hivesight/protocol'
import type { ApiKeyVerifier } from '../auth/api-keys.ts'
import type { Db } from '../db/create-db.ts'
import { identitiesIn } from '../db/volunteer-identity.repository.ts'
import { listLiveWorkers } from '../db/worker.repository.ts'
import { toWorkerView } from '../workers/worker-view.ts'
import { requireApiKey, type AuthMode } from './auth.ts'

/**
 * Read from the database, so every coordinator lists every worker with the figures its own coordinator
 * wrote. Behind a key: names, addresses' networks and who is quarantined are nobody else's business.
 */
export const workersRoutes: FastifyPluginAsyncTypebox<{ db: Db; authMode: AuthMode; verifier: ApiKeyVerifier }> = async (app, { db, authMode, verifier }) => {
  requireApiKey(app, authMode, verifier)
  app.get('/api/v1/workers', {
    schema: { tags: ['workers'], summary: 'Connected workers: speed per connection, honesty per volunteer identity', response: { 200: WorkerList, 401: Problem } },
  }, async () => {
    const rows = await listLiveWorkers(db.kysely)
    const records = new Map((await identitiesIn(db.kysely, [...new Set(rows.flatMap((w) => (w.identity ? [w.identity] : [])))])).map((r) => [r.identity, r]))
    return { workers: rows.map((w) => toWorkerView(w, w.identity ? records.get(w.identity) : undefined)) }
  })
}
