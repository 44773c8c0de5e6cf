import { createServer, type IncomingMessage } from 'node:http'
import { join } from 'node:path'
import cors from '@fastify/cors'
import multipart from '@fastify/multipart'
import proxyAddr from '@fastify/proxy-addr'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { LogController, type FastifyInstance } from 'fastify'
import { ApiKeyVerifier } from './auth/api-keys.ts'
import { JoinLinkService } from './auth/join-link-service.ts'
import type { Config } from './config.ts'
import { databaseTimeMs, type Db } from './db/create-db.ts'
import { SqlAnswerStore } from './db/answer-store.ts'
import { SqlDispatchStore } from './db/dispatch-store.ts'
import { dashboardRoutes } from './http/dashboard.routes.ts'
import { errorHandler } from './http/error-handler.ts'
import { eventsRoutes } from './http/events.routes.ts'
import { healthRoutes } from './http/health.routes.ts'
import { registerOpenApi } from './http/openapi.ts'
import { jobsRoutes } from './http/jobs.routes.ts'
import { metricsRoutes } from './http/metrics.routes.ts'
import { problem } from './http/problem.ts'
import { workerPageRoutes } from './http/worker-page.routes.ts'
import { joinLinksRoutes } from './http/join-links.routes.ts'
import { workersRoutes } from './http/workers.routes.ts'
import { AnswerRecorder } from './jobs/answer-recorder.ts'
import { skewedClock, SyncedClock, type Clock } from './jobs/clock.ts'
import { EventHub } from './events/event-hub.ts'
import { EventJournal } from './events/event-journal.ts'
import { JournaledJobService, ObservedWorkerRegistry } from './events/journal-hooks.ts'
import { ClusterSignals } from './jobs/cluster-signals.ts'
import { newCounters, type DispatchCounters } from './jobs/counters.ts'
import { DispatchPump } from './jobs/dispatch-pump.ts'
import { JobService } from './jobs/job-service.ts'
import { JobWaiters } from './jobs/job-waiters.ts'
import { LeaseRecovery } from './jobs/lease-recovery.ts'
import { LeaseSweeper } from './jobs/lease-sweeper.ts'
import { UploadCommitter } from './jobs/upload-committer.ts'
import { WorkerSessions } from './jobs/worker-sessions.ts'
import { PrometheusMetrics } from './metrics/prometheus-metrics.ts'
import { shrinkStage } from './images/shrink-stage.ts'
import { registerModelApis } from './http/model-apis.ts'
import { importBuiltInModel } from './models/model-import.ts'
import { ModelRepository } from './models/model-repository.ts'
import { SmokeTests } from './models/smoke-tests.ts'
import { Prewarm } from './models/prewarm.ts'
import { VersionRates } from './models/version-rates.ts'
import { volunteerCapable } from './trust/volunteer-models.ts'
import { importLegacyBlobs } from './storage/legacy-blob-import.ts'
import { WorkerFigures } from './workers/worker-figures.ts'
import { WorkerRegistry } from './workers/worker-registry.ts'
import { DEFAULT_SPOT_CHECKS, NO_SPOT_CHECKS } from './trust/spot-checks.ts'
import { createVolunteerTrust } from './trust/volunteer-trust.ts'
import { attachWorkerSocket } from './ws/worker-socket.ts'

export interface AppDeps {
  config: Config
  db: Db
  clock?: Clock
  /** Draws for spot checks (tests pass a seeded or fixed one). */
  random?: () => number
  /** pino options or false; tests pass false. */
  logger?: boolean | { level: string }
}

export interface Coordinator {
  app: FastifyInstance
  jobs: JobService
  pump: DispatchPump
  sweeper: LeaseSweeper
  signals: ClusterSignals
  registry: WorkerRegistry
  counters: DispatchCounters
  models: ModelRepository
  /** The clock every lease and liveness time comes from (the database's, on MariaDB). */
  clock: Clock
  /**
   * Graceful shutdown, first half: refuse new uploads (503 + Retry-After), stop dispatching, tell the
   * workers, and give them up to `graceMs` to deliver what they hold. `app.close()` does the rest.
   */
  drain(graceMs: number): Promise<void>
}

/**
 * The client's address of a raw request (the worker socket's upgrade, which Fastify does not see), with
 * the same trust in X-Forwarded-For as Fastify's `trustProxy` gives req.ip.
 */
function clientAddressOf(trustProxy: boolean | string): (req: IncomingMessage) => string | undefined {
  if (trustProxy === false) return (req) => req.socket.remoteAddress
  const trust = trustProxy === true ? () => true : proxyAddr.compile(trustProxy.split(','))
  return (req) => proxyAddr(req, trust)
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
    // Behind a load balancer, req.ip (per-IP limits, logs) is the client's, from the proxies trusted here.
    trustProxy: config.trustProxy,
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

  // Times written by one coordinator are compared by others: on a shared database, use its clock.
  const host = skewedClock(config.clockSkewMs)
  const clock = deps.clock ?? (db.dialect === 'mariadb' ? new SyncedClock(host, () => databaseTimeMs(db)) : host)
  // The event stream's journal sees leases, releases and workers through the registry (events/).
  const journal = new EventJournal(db, clock, app.log, { origin: config.coordinatorId, flushMs: 100 })
  const registry = new ObservedWorkerRegistry(journal)
  const waiters = new JobWaiters()
  const notify = (ids: string[]) => ids.forEach((id) => waiters.notify(id))
  const verifier = new ApiKeyVerifier(db)
  const figures = new WorkerFigures()
  const metrics = new PrometheusMetrics(db, registry, figures, clock)
  const counters = newCounters()
  const signals = new ClusterSignals(db, app.log, { origin: config.coordinatorId, pollMs: config.eventPollMs })
  const rates = new VersionRates()
  const models = new ModelRepository(db, signals, clock, app.log, {
    defaultModel: config.defaultModel, random: deps.random, shadowShare: config.modelShadowShare,
    usage: (id) => ({ warmOn: registry.holding(id).map((w) => w.hello.name ?? w.id), imagesPerSecond: rates.perSecond(id, clock.now()), agreement: rates.agreementOf(id) }),
  })
  // Set once the built-in model is in the repository (a job queued by an older coordinator runs on it).
  let builtIn = ''
  const accepted = (workerId: string, timings: { decodeMs: number; inferMs: number }, model: string, shadow?: { version: string; top1: number; top1Here: number }) => {
    figures.record(workerId, timings, clock.now())
    rates.record(model, clock.now())
    const ref = models.ref(model)
    if (ref) metrics.modelAnswered(ref.name, ref.version, timings.inferMs)
    const agreed = shadow && models.sameClass({ version: model, index: shadow.top1Here }, { version: shadow.version, index: shadow.top1 })
    const other = shadow && models.ref(shadow.version)
    if (ref && other && agreed !== undefined) {
      rates.compared(model, shadow.version, agreed)
      metrics.modelsCompared(ref.name, ref.version, other.version, agreed)
    }
  }
  // The pump is created below; these callbacks run only once it exists.
  const recovery = new LeaseRecovery(db, signals, metrics, counters, { requeued: () => pump.jobsMayBeQueued(), finished: notify })
  const trust = createVolunteerTrust(db, registry, signals, clock, app.log, {
    policy: config.volunteerPolicy, spotChecks: config.spotChecks ? DEFAULT_SPOT_CHECKS : NO_SPOT_CHECKS, leaseMs: config.leaseMs,
    models: () => [...models.readyVersions()].filter((v) => volunteerCapable(v.descriptor)).map((v) => v.id), maxPixels: config.maxImagePixels, random: deps.random,
    takeBack: (workerId) => recovery.takeBack({ workerIds: [workerId] }, clock.now()),
  }, {
    slotFreed: () => pump.pump(), finished: notify, requeued: () => pump.jobsMayBeQueued(),
    resultAccepted: accepted,
  })
  const pump = new DispatchPump(new SqlDispatchStore(db, () => builtIn), registry, recovery, clock, app.log, metrics, counters, { leaseMs: config.leaseMs, onFinished: notify, volunteers: trust.slots, shadow: (id) => models.shadowFor(id) })
  const answers = new AnswerRecorder(new SqlAnswerStore(db), models, registry, signals, clock, app.log, metrics, counters, {
    slotFreed: () => pump.pump(), finished: notify, requeued: () => pump.jobsMayBeQueued(), resultAccepted: accepted,
  }, trust.hooks)
  const smoke = new SmokeTests(models, registry, app.log, { timeoutMs: 120_000, intervalMs: 2_000 })
  const prewarm = new Prewarm(models, registry)
  models.onChange = () => prewarm.run()
  const sweepIntervalMs = Math.max(1_000, config.pingIntervalMs)
  // A worker (and its session) nobody has touched for three sweeps belongs to a coordinator that died.
  const staleAfterMs = 3 * sweepIntervalMs
  const sessions = new WorkerSessions(db, registry, figures, recovery, pump, clock, app.log, { coordinatorId: config.coordinatorId, staleAfterMs })
  const sweeper = new LeaseSweeper(db, registry, figures, recovery, pump, answers, signals, clock, app.log, {
    intervalMs: sweepIntervalMs, staleAfterMs, retentionMs: config.jobRetentionHours * 3600_000,
  })
  const uploads = new UploadCommitter(db, signals, clock, pump)
  const stored = config.shrinkImages === 'off' ? undefined : shrinkStage(models, { maxPixels: config.maxImagePixels, everyPicture: config.shrinkImages === 'all' }, metrics)
  const jobs = new JournaledJobService(db, uploads, pump, signals, waiters, clock, app.log, { maxAttempts: config.maxAttempts, stored }, metrics, models).journalTo(journal)
  const events = new EventHub(db, clock, app.log, {
    coordinatorId: config.coordinatorId, label: models, pollMs: 100, statsMs: 2_000,
    eventsKeptMs: 60_000, maxStreams: 1_000, maxStreamsPerKey: 16,
  })

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
    authMode: config.authMode, verifier, rateLimitPerMinute: config.rateLimitPerMinute, volunteerJobs: config.volunteerJobs,
  })
  await app.register(workersRoutes, { db, authMode: config.authMode, verifier })
  await app.register(eventsRoutes, { hub: events, authMode: config.authMode, verifier })
  const bar = async (identity: string, reason: string) => {
    await signals.publish({ kind: 'identity.barred', identity, reason }, clock.now())
    trust.quarantine.close(identity, reason)
  }
  const links = config.joinToken ? new JoinLinkService(db, config.joinToken, clock, bar) : null
  await app.register(joinLinksRoutes, { authMode: config.authMode, verifier, links, publicUrl: config.publicUrl })
  await registerModelApis(app, {
    config, models, jobs, verifier, uploaded: () => void smoke.kick().catch((err: unknown) => app.log.warn({ err }, 'could not start a smoke test')),
  })
  await app.register(healthRoutes, { db, models })
  await app.register(metricsRoutes, { metrics, token: config.metricsToken })
  // Pages load the default model before they join, so its first jobs do not wait for a load.
  await app.register(workerPageRoutes, { preload: async () => models.find().then((v) => (v.state === 'ready' ? [v.id] : []), () => []) })
  await app.register(dashboardRoutes)
  attachWorkerSocket(app, {
    join: (hello, channel, remote, token, who) => sessions.join(hello, channel, remote, token, who),
    leave: (id) => {
      trust.workerLeft(id)
      return sessions.leave(id)
    },
    draining: (id) => sessions.draining(id),
    answer: (id, msg) => answers.record(id, msg),
    release: (id, msg) => answers.release(id, msg),
    models: (id, msg) => {
      registry.setModels(id, msg.held)
      // A page that loaded a version may now be the best place for what waits on it; a new page loads what labels point at.
      pump.jobsMayBeQueued()
      prewarm.run()
    },
    checked: (id, msg) => smoke.checked(id, msg),
  }, app.log, {
    path: '/ws/worker', pingIntervalMs: config.pingIntervalMs, helloTimeoutMs: 2_000,
    access: { mode: config.authMode, workerToken: config.workerToken, joinToken: config.joinToken },
    allowedOrigins: config.workerOrigins, maxConnectionsPerIp: config.maxWorkerConnectionsPerIp,
    clientAddress: clientAddressOf(config.trustProxy),
  })
  if (config.authMode === 'keys' && !config.workerToken) {
    app.log.info('no WORKER_TOKEN: runtimes join with credentials of their own (npm run keys -- worker create --name VM)')
  }

  let keyExpiry: NodeJS.Timeout | undefined
  let importRetry: NodeJS.Timeout | undefined
  // With the database down at start, the built-in model is imported once it is back.
  const importModels = async (): Promise<void> => {
    try {
      builtIn = (await importBuiltInModel(models, db, config.modelDir, app.log)).id
    } catch (err) {
      app.log.warn({ err }, 'could not import the built-in model yet; retrying in 2 s')
      importRetry = setTimeout(() => void importModels(), 2_000)
      importRetry.unref()
    }
  }
  app.addHook('onReady', async () => {
    // Not fatal when the database is down at start: the sweep syncs again, the signals start reading once it is back.
    if (clock instanceof SyncedClock) await clock.sync().catch((err: unknown) => app.log.warn({ err }, 'could not read the database clock yet'))
    await importLegacyBlobs(db, join(config.dataDir, 'blobs'), app.log).catch((err: unknown) => app.log.error({ err }, 'could not move the images of DATA_DIR/blobs into the database; they stay there until the next start'))
    await importModels()
    await sessions.start()
    await signals.start({
      queued: () => pump.jobsMayBeQueued(),
      canceled: (jobId, workerId, token) => {
        pump.dropOnWorker(workerId, jobId, token, 'canceled by the API')
        waiters.notify(jobId)
      },
      finished: notify,
      barred: (identity, reason) => trust.quarantine.close(identity, reason),
      modelsChanged: () => void models.refresh().then(() => {
        prewarm.run()
        return smoke.kick()
      }).catch((err: unknown) => app.log.warn({ err }, 'could not read the model repository')),
    })
    smoke.start()
    sweeper.start()
    journal.start()
    keyExpiry = setInterval(() => void jobs.expireIdempotencyKeys().catch((err) => app.log.warn({ err }, 'could not expire idempotency keys')), 3600_000)
    keyExpiry.unref()
  })
  app.addHook('onClose', async () => {
    clearInterval(keyExpiry)
    clearTimeout(importRetry)
    smoke.stop()
    signals.stop()
    await sweeper.stop()
    await pump.stop()
    await answers.settle()
    await journal.stop()
  })

  const drain = async (graceMs: number) => {
    jobs.stopAccepting()
    pump.startDrain()
    const end = performance.now() + graceMs
    while (registry.inFlight > 0 && performance.now() < end) await new Promise((r) => setTimeout(r, 50))
  }
  return { app, jobs, pump, sweeper, signals, registry, counters, models, clock, drain }
}
