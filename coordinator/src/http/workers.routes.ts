import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { WorkerList, workerFlavour } from '@hivesight/protocol'
import type { Db } from '../db/create-db.ts'
import { listLiveWorkers } from '../db/worker.repository.ts'

/** Read from the database, so every coordinator lists every worker with the figures its own coordinator wrote. */
export const workersRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  app.get('/api/v1/workers', {
    schema: { tags: ['workers'], summary: 'Connected workers', response: { 200: WorkerList } },
  }, async () => {
    const rows = await listLiveWorkers(db.kysely)
    const ms = (x: number | null) => (x === null ? null : Number(x))
    return {
      workers: rows.map((w) => {
        const [threads, simd] = [Number(w.threads), Number(w.simd) === 1]
        return {
          id: w.id, kind: w.kind, trusted: w.kind === 'headless', name: w.name, slots: Number(w.slots), busy: w.busy, connectedAt: Number(w.connected_at),
          lastSeenAt: Number(w.last_seen_at), jobsDone: Number(w.jobs_done), backend: w.backend, threads, simd,
          flavour: workerFlavour({ backend: w.backend, simd, threads }),
          imagesPerSecond: Number(w.images_per_second), inferMs: ms(w.infer_ms), prepareMs: ms(w.prepare_ms),
        }
      }),
    }
  })
}
