import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { hostname } from 'node:os'
import { basename, isAbsolute, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root: relative defaults (data/, ../shared/models) are taken from here, not from the cwd. */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)))

export interface Config {
  host: string
  port: number
  dataDir: string
  /** mysql://… selects MariaDB; null means the embedded SQLite file under dataDir. */
  databaseUrl: string | null
  /** The built-in model, imported into the repository at first start as version 1 of basename(modelDir). */
  modelDir: string
  /** The model a request without ?model= runs on (at its `default` label). */
  defaultModel: string
  /** Largest model upload (model.json + weights), and most classes. */
  maxModelBytes: number
  maxModelClasses: number
  /** Share of a split label's jobs also run on the other version, for the versions' top-1 agreement. */
  modelShadowShare: number
  maxImageBytes: number
  maxImagesPerRequest: number
  maxImagePixels: number
  maxImageSide: number
  maxAttempts: number
  /** How long a worker may hold a job before it is given to another (the full lease design is issue #4). */
  leaseMs: number
  /** WebSocket ping interval; a worker that misses two answers in a row is dead. */
  pingIntervalMs: number
  /** Longest `?wait=` a client may ask for. */
  maxWaitSeconds: number
  /** keys: every job route needs an API key (the default); open: anyone who reaches the port may submit. */
  authMode: 'keys' | 'open'
  /** Requests per minute per API key on the job routes (keys mode). */
  rateLimitPerMinute: number
  /** Origins allowed to call the API from a browser (CORS); empty = none. */
  corsOrigins: string[]
  /**
   * Secrets that worker session tokens are derived from: WORKER_TOKEN for trusted runtimes (each page gets
   * its own token), JOIN_TOKEN for volunteer tabs' join links (untrusted). Needed in keys mode.
   */
  workerToken: string | null
  joinToken: string | null
  /** A client must send its whole request within this: a slow-drip upload cannot hold a socket forever. */
  requestTimeoutMs: number
  /** When set, GET /metrics needs it as a Bearer token (for a coordinator on the open internet). */
  metricsToken: string | null
  /** How users reach this coordinator (e.g. behind a proxy), for links it hands out; null = the request's Host. */
  publicUrl: string | null
  /**
   * This coordinator among those sharing a database, the same across its restarts (host:port by default;
   * random when the port is chosen by the system).
   */
  coordinatorId: string
  /** Origins besides the coordinator's own whose pages may open the worker socket. */
  workerOrigins: string[]
  maxWorkerConnectionsPerIp: number
  /** How often this coordinator reads the other coordinators' signals from the shared database. */
  eventPollMs: number
  /** Finished jobs (and the images dead ones keep) are deleted this long after they finished. */
  jobRetentionHours: number
  /** Peer coordinator processes on this host sharing its port (MariaDB only): one per core for throughput. */
  processes: number
  /** Tests only: pretend this host's clock is off by this much (lease times come from the database's clock). */
  clockSkewMs: number
  /**
   * Behind a load balancer: which proxies' X-Forwarded-For to believe, so per-IP limits and logs see the
   * client (true = any proxy, or a list of proxy addresses/CIDRs). false = the socket's address.
   */
  trustProxy: boolean | string
  /**
   * Whose jobs volunteer tabs may see: 'per-key' (keys made with --volunteers; the keys-mode default), 'all'
   * (open mode's default: there are no keys) or 'none'.
   */
  volunteerJobs: 'per-key' | 'all' | 'none'
  /** 'quorum': a volunteer's answer is final only once confirmed (the default); 'accept': believed alone. */
  volunteerPolicy: 'quorum' | 'accept'
  /** Known-answer spot checks for volunteers (on by default). */
  spotChecks: boolean
  /**
   * on: pictures far bigger than their model needs are stored shrunk, as the model input where the versions
   * take it (images/shrink-plan.ts); all: every picture a version can take as the model input is stored as
   * it (pages only predict); off: stored as sent, pages decode them.
   */
  shrinkImages: 'on' | 'all' | 'off'
  logLevel: string
  /** json (default, for machines) or pretty (for a person at a terminal; npm start picks it on a TTY). */
  logFormat: 'json' | 'pretty'
}

export const DEFAULT_MODEL_DIR = resolve(REPO_ROOT, '../shared/models/mobilenet_v2_1.0_224')

export class ConfigError extends Error {}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max} (got "${raw}")`)
  return n
}

function choice<T extends string>(env: NodeJS.ProcessEnv, name: string, options: readonly T[], fallback: T): T {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!(options as readonly string[]).includes(raw)) throw new ConfigError(`${name} must be one of ${options.join(', ')} (got "${raw}")`)
  return raw as T
}

function dir(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const raw = env[name]
  if (!raw) return fallback
  return isAbsolute(raw) ? raw : resolve(process.cwd(), raw)
}

const list = (raw: string | undefined): string[] => (raw ?? '').split(',').map((o) => o.trim()).filter(Boolean)

function authMode(raw: string | undefined): 'keys' | 'open' {
  if (raw === undefined || raw === '' || raw === 'keys') return 'keys'
  if (raw === 'open') return 'open'
  throw new ConfigError(`AUTH_MODE must be "keys" or "open" (got "${raw}")`)
}

/** Session tokens are HMACs keyed with these: a short secret could be guessed offline from one token. */
function secret(env: NodeJS.ProcessEnv, name: string): string | null {
  const value = env[name]
  if (!value) return null
  if (value.length < 16) throw new ConfigError(`${name} must be at least 16 characters (a long random secret, e.g. openssl rand -base64 24)`)
  return value
}

function publicUrl(raw: string | undefined): string | null {
  if (!raw) return null
  try {
    const url = new URL(raw)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)')
    return url.origin
  } catch {
    throw new ConfigError(`PUBLIC_URL must be an http(s) URL like https://hivesight.example.org (got "${raw}")`)
  }
}

function trustProxy(raw: string | undefined): boolean | string {
  if (raw === undefined || raw === '' || raw === 'false') return false
  if (raw === 'true') return true
  return raw.split(',').map((s) => s.trim()).filter(Boolean).join(',')
}

function coordinatorId(env: NodeJS.ProcessEnv, port: number): string {
  const base = env.COORDINATOR_ID ? env.COORDINATOR_ID.slice(0, 190) : port === 0 ? `${hostname()}:${randomUUID()}` : `${hostname()}:${port}`
  // A process of a group (COORDINATOR_PROCESSES): its slot keeps the id stable across its restarts.
  return env.COORDINATOR_SLOT ? `${base}#${env.COORDINATOR_SLOT}` : base
}

function processes(env: NodeJS.ProcessEnv, databaseUrl: string | null): number {
  const n = int(env, 'COORDINATOR_PROCESSES', 1, 1, 64)
  if (n > 1 && !databaseUrl) throw new ConfigError('COORDINATOR_PROCESSES > 1 needs DATABASE_URL (MariaDB): the embedded SQLite file serves one process')
  return n
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const modelDir = dir(env, 'MODEL_DIR', DEFAULT_MODEL_DIR)
  if (!existsSync(resolve(modelDir, 'model.json'))) {
    throw new ConfigError(`no model at ${modelDir} (model.json missing). Set MODEL_DIR to a folder with a TF.js MobileNet V2 graph model (model.json, weight shards, labels.json), the built-in model imported at first start: see "The model" in README.md`)
  }
  const port = int(env, 'PORT', 8080, 0, 65_535)
  const databaseUrl = env.DATABASE_URL ? env.DATABASE_URL : null
  return {
    host: env.HOST ?? '0.0.0.0',
    port,
    dataDir: dir(env, 'DATA_DIR', resolve(REPO_ROOT, 'data')),
    databaseUrl,
    modelDir,
    defaultModel: env.DEFAULT_MODEL || basename(modelDir),
    maxModelBytes: int(env, 'MAX_MODEL_BYTES', 100 * 1024 * 1024, 1024, 2 * 1024 * 1024 * 1024),
    maxModelClasses: int(env, 'MAX_MODEL_CLASSES', 22_000, 1, 99_999),
    modelShadowShare: int(env, 'MODEL_SHADOW_PERCENT', 10, 0, 100) / 100,
    // Images are stored in the database: one image is one packet, under MariaDB's max_allowed_packet (16 MiB by default).
    maxImageBytes: int(env, 'MAX_IMAGE_BYTES', 10 * 1024 * 1024, 1024, 15 * 1024 * 1024),
    maxImagesPerRequest: int(env, 'MAX_IMAGES_PER_REQUEST', 64, 1, 10_000),
    maxImagePixels: int(env, 'MAX_IMAGE_PIXELS', 40_000_000, 1, 1_000_000_000),
    maxImageSide: int(env, 'MAX_IMAGE_SIDE', 16_384, 1, 65_535),
    maxAttempts: int(env, 'MAX_ATTEMPTS', 5, 1, 100),
    leaseMs: int(env, 'LEASE_MS', 60_000, 1_000, 3_600_000),
    pingIntervalMs: int(env, 'PING_INTERVAL_MS', 2_000, 100, 60_000),
    maxWaitSeconds: int(env, 'MAX_WAIT_SECONDS', 60, 0, 3_600),
    authMode: authMode(env.AUTH_MODE),
    rateLimitPerMinute: int(env, 'RATE_LIMIT_PER_MINUTE', 3_000, 1, 1_000_000),
    corsOrigins: list(env.CORS_ORIGINS),
    workerToken: secret(env, 'WORKER_TOKEN'),
    joinToken: secret(env, 'JOIN_TOKEN'),
    requestTimeoutMs: int(env, 'REQUEST_TIMEOUT_MS', 60_000, 1_000, 3_600_000),
    metricsToken: secret(env, 'METRICS_TOKEN'),
    publicUrl: publicUrl(env.PUBLIC_URL),
    coordinatorId: coordinatorId(env, port),
    workerOrigins: list(env.WORKER_ORIGINS),
    maxWorkerConnectionsPerIp: int(env, 'MAX_WORKER_CONNECTIONS_PER_IP', 64, 1, 100_000),
    eventPollMs: int(env, 'EVENT_POLL_MS', 50, 5, 10_000),
    jobRetentionHours: int(env, 'JOB_RETENTION_HOURS', 7 * 24, 1, 24 * 3650),
    processes: processes(env, databaseUrl),
    clockSkewMs: int(env, 'CLOCK_SKEW_MS', 0, -86_400_000, 86_400_000),
    trustProxy: trustProxy(env.TRUST_PROXY),
    volunteerJobs: choice(env, 'VOLUNTEER_JOBS', ['per-key', 'all', 'none'] as const, authMode(env.AUTH_MODE) === 'open' ? 'all' : 'per-key'),
    volunteerPolicy: choice(env, 'VOLUNTEER_POLICY', ['quorum', 'accept'] as const, 'quorum'),
    spotChecks: choice(env, 'SPOT_CHECKS', ['on', 'off'] as const, 'on') === 'on',
    shrinkImages: choice(env, 'SHRINK_IMAGES', ['on', 'all', 'off'] as const, 'on'),
    logLevel: env.LOG_LEVEL ?? 'info',
    logFormat: env.LOG_FORMAT === 'pretty' ? 'pretty' : 'json',
  }
}
