import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { WorkerList } from '@hivesight/protocol'
import type { Db } from '../db/create-db.ts'
import { listLiveWorkers } from '../db/worker.repository.ts'

export const workersRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  app.get('/api/v1/workers', {
    schema: { tags: ['workers'], summary: 'Connected workers', response: { 200: WorkerList } },
  }, async () => {
    const rows = await listLiveWorkers(db.kysely)
    return {
      workers: rows.map((w) => ({
        id: w.id, kind: w.kind, trusted: w.kind === 'headless', name: w.name, slots: Number(w.slots), busy: w.busy, connectedAt: Number(w.connected_at),
        lastSeenAt: Number(w.last_seen_at), jobsDone: Number(w.jobs_done), backend: w.backend, threads: Number(w.threads),
      })),
    }
  })
}
