import { createServer } from 'node:http'
import { join } from 'node:path'
import cors from '@fastify/cors'
import multipart from '@fastify/multipart'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { LogController, type FastifyInstance } from 'fastify'
import { ApiKeyVerifier } from './auth/api-keys.ts'
import type { Config } from './config.ts'
import type { Db } from './db/create-db.ts'
import { dashboardRoutes } from './http/dashboard.routes.ts'
import { errorHandler } from './http/error-handler.ts'
import { healthRoutes } from './http/health.routes.ts'
import { registerOpenApi } from './http/openapi.ts'
import { jobsRoutes } from './http/jobs.routes.ts'
import { metricsRoutes } from './http/metrics.routes.ts'
import { problem } from './http/problem.ts'
import { workerPageRoutes } from './http/worker-page.routes.ts'
import { joinLinksRoutes } from './http/join-links.routes.ts'
import { workersRoutes } from './http/workers.routes.ts'
import { systemClock, type Clock } from './jobs/clock.ts'
import { DispatchService } from './jobs/dispatch-service.ts'
import { JobService } from './jobs/job-service.ts'
import { JobWaiters } from './jobs/job-waiters.ts'
import { PrometheusMetrics } from './metrics/prometheus-metrics.ts'
import { ModelFiles } from './model/model-files.ts'
import { BlobStore } from './storage/blob-store.ts'
import { WorkerRegistry } from './workers/worker-registry.ts'
import { attachWorkerSocket } from './ws/worker-socket.ts'

export interface AppDeps {
  config: Config
  db: Db
  clock?: Clock
  /** pino options or false; tests pass false. */
  logger?: boolean | { level: string }
}

export interface Coordinator {
  app: FastifyInstance
  jobs: JobService
  dispatch: DispatchService
  registry: WorkerRegistry
  model: ModelFiles
  /**
   * Graceful shutdown, first half: refuse new uploads (503 + Retry-After), stop dispatching, tell the
   * workers, and give them up to `graceMs` to deliver what they hold. `app.close()` does the rest.
   */
  drain(graceMs: number): Promise<void>
}

/** Builds the whole coordinator around a database it is given; never listens (server.ts does). */
export async function buildApp(deps: AppDeps): Promise<Coordinator> {
  const { config, db } = deps
  const app = Fastify({
    logger: deps.logger ?? {
      level: config.logLevel,
      ...(config.logFormat === 'pretty' ? { transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss', ignore: 'pid,hostname' } } } : {}),
    },
    // One line per request would drown the log at hundreds of uploads a second; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // Uploads are streamed by @fastify/multipart; this bounds other bodies (the submit routes allow more).
    bodyLimit: 1024 * 1024,
    // A client must send its whole request within requestTimeoutMs: a slow-drip upload cannot hold a socket.
    // Node checks that only every connectionsCheckingInterval (30 s by default), so check often enough to
    // honour short timeouts; Fastify does not pass that option through, hence the factory.
    serverFactory: (handler) => createServer({
      requestTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(config.requestTimeoutMs / 4))),
    }, handler),
  }).withTypeProvider<TypeBoxTypeProvider>()

  const model = new ModelFiles(config.modelDir)
  const registry = new WorkerRegistry()
  const clock = deps.clock ?? systemClock
  const blobs = new BlobStore(join(config.dataDir, 'blobs'))
  const waiters = new JobWaiters()
  const verifier = new ApiKeyVerifier(db)
  const metrics = new PrometheusMetrics(db, registry)
  const dispatch = new DispatchService(db, blobs, model, registry, waiters, clock, app.log, {
    maxAttempts: config.maxAttempts,
    leaseMs: config.leaseMs,
    sweepIntervalMs: Math.max(1_000, config.pingIntervalMs),
    coordinatorId: config.coordinatorId,
  }, metrics)
  const jobs = new JobService(db, blobs, dispatch, waiters, clock, app.log, { maxAttempts: config.maxAttempts }, metrics)

  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).type('application/problem+json').send(problem(404, 'NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`)))
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-content-type-options', 'nosniff')
    // The id every log line of this request carries: a user can quote it in a bug report.
    reply.header('x-request-id', req.id)
    if (req.url.startsWith('/api/')) reply.header('cache-control', 'no-store')
  })

  // Browsers may call the API only from listed origins; never `*`, and no credentials (keys go in a header).
  await app.register(cors, { origin: config.corsOrigins.length > 0 ? config.corsOrigins : false, credentials: false })
  await registerOpenApi(app)
  await app.register(multipart, {
    limits: {
      fileSize: config.maxImageBytes,
      files: config.maxImagesPerRequest,
      parts: config.maxImagesPerRequest + 10,
      fields: 10,
      fieldSize: 1024,
      headerPairs: 100,
    },
  })
  if (config.authMode === 'open') {
    app.log.warn('AUTH_MODE=open: anyone who can reach this port can submit and read jobs. Use API keys (AUTH_MODE=keys, npm run keys) on any shared network.')
  }
  await app.register(jobsRoutes, {
    jobs, maxWaitSeconds: config.maxWaitSeconds, pixelLimits: { maxPixels: config.maxImagePixels, maxSide: config.maxImageSide },
    maxImageBytes: config.maxImageBytes, maxImages: config.maxImagesPerRequest,
    authMode: config.authMode, verifier, rateLimitPerMinute: config.rateLimitPerMinute,
  })
  await app.register(workersRoutes, { db })
  await app.register(joinLinksRoutes, { authMode: config.authMode, verifier, joinSecret: config.joinToken, clock, publicUrl: config.publicUrl })
  await app.register(healthRoutes, { db, model })
  await app.register(metricsRoutes, { metrics, token: config.metricsToken })
  await app.register(workerPageRoutes, { model })
  await app.register(dashboardRoutes)
  attachWorkerSocket(app, dispatch, app.log, {
    path: '/ws/worker', pingIntervalMs: config.pingIntervalMs, helloTimeoutMs: 2_000,
    access: { mode: config.authMode, workerToken: config.workerToken, joinToken: config.joinToken },
    allowedOrigins: config.workerOrigins, maxConnectionsPerIp: config.maxWorkerConnectionsPerIp,
  })
  if (config.authMode === 'keys' && !config.workerToken) {
    app.log.warn('AUTH_MODE=keys but no WORKER_TOKEN: only volunteer tabs with JOIN_TOKEN can join, no headless runtime')
  }

  let keyExpiry: NodeJS.Timeout | undefined
  let orphanSweep: NodeJS.Timeout | undefined
  app.addHook('onReady', async () => {
    await dispatch.start()
    keyExpiry = setInterval(() => void jobs.expireIdempotencyKeys().catch((err) => app.log.warn({ err }, 'could not expire idempotency keys')), 3600_000)
    keyExpiry.unref()
    const collectOrphans = () => void jobs.collectOrphanImages().catch((err) => app.log.warn({ err }, 'could not collect orphan images'))
    orphanSweep = setInterval(collectOrphans, 10 * 60_000)
    orphanSweep.unref()
    collectOrphans()
  })
  app.addHook('onClose', async () => {
    clearInterval(keyExpiry)
    clearInterval(orphanSweep)
    await dispatch.stop()
  })

  const drain = async (graceMs: number) => {
    jobs.stopAccepting()
    dispatch.startDrain()
    const end = performance.now() + graceMs
    while (registry.inFlight > 0 && performance.now() < end) await new Promise((r) => setTimeout(r, 50))
  }
  return { app, jobs, dispatch, registry, model, drain }
}
