import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { sql } from 'kysely'
import { Type } from 'typebox'
import type { Db } from '../db/create-db.ts'
import { pendingMigrations } from '../db/migrate.ts'
import type { ModelLookup } from '../models/model-lookup.ts'

const Health = Type.Object({ status: Type.String(), checks: Type.Optional(Type.Record(Type.String(), Type.String())) })

export const healthRoutes: FastifyPluginAsyncTypebox<{ db: Db; models: ModelLookup }> = async (app, { db, models }) => {
  app.get('/healthz', { schema: { tags: ['operations'], summary: 'The process is alive', response: { 200: Health } } }, async () => ({ status: 'ok' }))

  app.get('/readyz', { schema: { tags: ['operations'], summary: 'Database reachable, migrations applied, the default model ready', response: { 200: Health, 503: Health } } }, async (_req, reply) => {
    const checks: Record<string, string> = {}
    try {
      await sql`select 1`.execute(db.kysely)
      const pending = await pendingMigrations(db.kysely)
      checks.database = 'ok'
      checks.migrations = pending.length === 0 ? 'ok' : `pending: ${pending.join(', ')}`
    } catch (err) {
      checks.database = `unreachable: ${err instanceof Error ? err.message : String(err)}`
    }
    if (checks.database === 'ok') {
      checks.model = await models.find().then((v) => (v.state === 'ready' ? 'ok' : `${v.name} v${v.version} is ${v.state}`), (err: unknown) => (err instanceof Error ? err.message : String(err)))
    }
    const ok = Object.values(checks).every((v) => v === 'ok')
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', checks })
  })
}
