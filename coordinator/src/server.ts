import cluster from 'node:cluster'
import { join } from 'node:path'
import { buildApp } from './app.ts'
import { runProcessGroup } from './cluster/process-group.ts'
import { ConfigError, loadConfig, type Config } from './config.ts'
import { createDb, type NodeChange } from './db/create-db.ts'
import { migrateToLatest } from './db/migrate.ts'
import { checkServerLimits } from './db/server-limits.ts'

const DRAIN_GRACE_MS = 5_000

// loadConfig → createDb → check the server's limits → migrate → buildApp → listen; a clean close on
// SIGINT/SIGTERM. With COORDINATOR_PROCESSES > 1, this process migrates once and runs that many peer coordinators.
async function main(): Promise<void> {
  const config = loadConfig()
  if (config.processes > 1 && cluster.isPrimary) {
    const db = createDb({ databaseUrl: config.databaseUrl! })
    // Refused here, the group never starts (its processes would each be refused and restarted).
    await checkServerLimits(db, config)
    await migrateToLatest(db.kysely)
    await db.kysely.destroy()
    return runProcessGroup(config.processes, (msg) => console.log(`hivesight coordinator: ${msg}`))
  }
  return serve(config)
}

async function serve(config: Config): Promise<void> {
  // Moves between database nodes are logged once the app (and its logger) exists.
  let nodeMoved = (_change: NodeChange) => {}
  const db = config.databaseUrl
    ? createDb({ databaseUrl: config.databaseUrl, onNodeChange: (c) => nodeMoved(c) })
    : createDb({ sqliteFile: join(config.dataDir, 'hivesight.sqlite') })
  const limitWarnings = await checkServerLimits(db, config)
  await migrateToLatest(db.kysely)
  const { app, drain } = await buildApp({ config, db })
  nodeMoved = (c) => app.log.warn({ from: `${c.from.host}:${c.from.port}`, to: `${c.to.host}:${c.to.port}`, reason: c.reason }, c.reason === 'failback' ? 'database: back on this coordinator\'s own node' : 'database: node unusable, moved to the next')
  for (const warning of limitWarnings) app.log.warn(warning)
  await app.listen({ host: config.host, port: config.port })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : config.port
  app.log.info({ port, database: db.describe, defaultModel: config.defaultModel, dataDir: config.dataDir }, `coordinator listening on http://localhost:${port}`)

  let closingSince = 0
  const shutdown = (signal: string) => {
    if (closingSince) {
      // Ctrl-C reaches every process of the group and `npm start` also forwards it: ignore that echo.
      if (Date.now() - closingSince < 2_000) return
      app.log.warn('second signal: exiting now')
      process.exit(1)
    }
    closingSince = Date.now()
    app.log.info({ signal }, 'shutting down: refusing uploads, letting workers deliver what they hold')
    // Everything accepted is in the database already; the grace only saves re-running in-flight jobs.
    drain(DRAIN_GRACE_MS)
      .then(() => app.close())
      .then(() => db.kysely.destroy())
      .then(() => process.exit(0), (err) => {
        app.log.error({ err }, 'unclean shutdown')
        process.exit(1)
      })
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(`hivesight coordinator: ${err.message}`)
  } else {
    console.error('hivesight coordinator failed to start:', err)
  }
  process.exit(1)
})
