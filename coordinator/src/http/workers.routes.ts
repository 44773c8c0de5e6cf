import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { WorkerList } from '@hivesight/protocol'
import type { Db } from '../db/create-db.ts'
import { listLiveWorkers } from '../db/worker.repository.ts'
import { toWorkerView } from '../workers/worker-view.ts'

/** Read from the database, so every coordinator lists every worker with the figures its own coordinator wrote. */
export const workersRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  app.get('/api/v1/workers', {
    schema: { tags: ['workers'], summary: 'Connected workers', response: { 200: WorkerList } },
  }, async () => ({ workers: (await listLiveWorkers(db.kysely)).map(toWorkerView) }))
}
