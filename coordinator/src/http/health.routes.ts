import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { sql } from 'kysely'
import { Type } from 'typebox'
import type { Db } from '../db/create-db.ts'
import { pendingMigrations } from '../db/migrate.ts'
import type { ModelFiles } from '../model/model-files.ts'

const Health = Type.Object({ status: Type.String(), checks: Type.Optional(Type.Record(Type.String(), Type.String())) })

export const healthRoutes: FastifyPluginAsyncTypebox<{ db: Db; model: ModelFiles }> = async (app, { db, model }) => {
  app.get('/healthz', { schema: { tags: ['operations'], summary: 'The process is alive', response: { 200: Health } } }, async () => ({ status: 'ok' }))

  app.get('/readyz', { schema: { tags: ['operations'], summary: 'Database reachable, migrations applied, model present', response: { 200: Health, 503: Health } } }, async (_req, reply) => {
    const checks: Record<string, string> = {}
    try {
      await sql`select 1`.execute(db.kysely)
      const pending = await pendingMigrations(db.kysely)
      checks.database = 'ok'
      checks.migrations = pending.length === 0 ? 'ok' : `pending: ${pending.join(', ')}`
    } catch (err) {
      checks.database = `unreachable: ${err instanceof Error ? err.message : String(err)}`
    }
    checks.model = existsSync(join(model.dir, 'model.json')) ? 'ok' : `missing: ${model.dir}`
    const ok = Object.values(checks).every((v) => v === 'ok')
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', checks })
  })
}
