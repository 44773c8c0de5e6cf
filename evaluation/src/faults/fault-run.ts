import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { DEFAULT_MODEL_DIR, REPO_ROOT } from '@hivesight/coordinator'
import type { JobView } from '@hivesight/protocol'
import { percentile } from '../accuracy/accuracy-report.ts'
import { mapLimit } from '../client/hivesight-client.ts'
import { readLabelledDataset, spreadSample } from '../dataset/labelled-dataset.ts'
import { CoordinatorProcess } from '../harness/coordinator-process.ts'
import type { Api } from '../harness/api.ts'
import { freePort } from '../harness/free-port.ts'
import { provisionApiKeys } from '../harness/provision.ts'
import { ChromiumFleet, SimFleet, type Fleet, type FleetMember } from './fleet.ts'
import { checkHistory, type AckedUpload, type HistoryCheck } from './history.ts'
import { IsolatedHost } from './netns.ts'
import { PrivateMariaDb } from './private-mariadb.ts'
import { POISON_MARKER } from './sim-fleet.ts'
import { uploadWithRetries } from './upload-load.ts'
import { tinyPng } from '@hivesight/coordinator/test-support/hostile-payloads'

export interface FaultContext {
  coordinator: CoordinatorProcess
  /** The coordinator's API with a key (GET /api/v1/workers needs one). */
  api: Api
  fleet: Fleet
  /** Seconds from a fault to each affected job running again elsewhere (or finished elsewhere). */
  requeueSeconds: number[]
  notes: string[]
  /** Scale of long waits: 1 for the full suite, smaller for the fast subset in npm test. */
  timeScale: number
  mariadb?: PrivateMariaDb
  isolated?: { host: IsolatedHost; member: FleetMember }
  /** Polls the API until each job left `from` (runs elsewhere or is final); records the seconds since `since`. */
  measureRequeue(jobIds: string[], since: number, timeoutMs?: number): Promise<void>
}

export interface Fault {
  id: string
  title: string
  /** What the fault really does to simulated workers, where that is not what `title` says of real ones. */
  simulatedTitle?: string
  poison?: boolean
  /** Runs on a private MariaDB server that the fault may stop (`ctx.mariadb`). */
  privateMariaDb?: boolean
  /** Adds one worker on an isolated host (network namespace) that the fault may cut off (`ctx.isolated`). */
  isolatedWorker?: boolean
  /** How long a simulated worker takes per job (default 40 ms): slower, it still holds jobs when the fault hits. */
  simulatedJobMs?: number
  inject(ctx: FaultContext): Promise<void>
}

export interface FaultResult extends HistoryCheck {
  id: string
  title: string
  fleet: Fleet['kind']
  staleAnswersSent: number | null
  /** What the uploading clients got back, by HTTP status (or network error), retries included. */
  clientSaw: Record<string, number>
  requeueMedianS: number | null
  requeueMaxS: number | null
  /** Answers the coordinator could not write and kept to apply later ("answer buffered" in its log). */
  bufferedAnswers: number
  /** Answers the coordinator refused as stale (late, replayed or not the holder's), from its log over all its runs. */
  refusedAnswers: number
  /** Succeeded jobs that took more than one attempt (a lease expired or was taken back): run again. */
  retried: number
  notes: string[]
  seconds: number
}

// A valid 1×1 PNG; each simulated upload appends its key so that every image (and fingerprint) is distinct.
const PNG = tinyPng()
const DATASET = process.env.DATASET_DIR ?? resolve(REPO_ROOT, '../shared/datasets/imagenet-val-dev')

/** The images to upload: tiny distinct PNGs for simulated workers, real ImageNet JPEGs for Chromium. */
function images(n: number, fleet: Fleet['kind'], poisonAt: number, tag: string): Buffer[] {
  if (fleet === 'simulated') {
    return Array.from({ length: n }, (_, i) => Buffer.concat([PNG, Buffer.from(`${tag}-${i}`), i === poisonAt ? POISON_MARKER : Buffer.alloc(0)]))
  }
  const files = spreadSample(readLabelledDataset(DATASET), Math.min(n, 713))
  return Array.from({ length: n }, (_, i) => {
    const bytes = readFileSync(files[i % files.length]!.path)
    // Poison for a browser: a JPEG cut in the middle (headers intact, so it is accepted, then fails to decode).
    return i === poisonAt ? bytes.subarray(0, Math.floor(bytes.length * 0.3)) : bytes
  })
}

/**
 * One fault against a real coordinator process and a fleet of workers: upload `jobs` images through
 * clients that retry with Idempotency-Key, inject the fault once ~30 % are acknowledged, wait for every
 * acknowledged job to be final, then check the whole history.
 */
export async function runFault(fault: Fault, opts: { jobs: number; workers: number; fleet: Fleet['kind']; timeScale: number; databaseUrl?: string; log?: (m: string) => void }): Promise<FaultResult> {
  const started = Date.now()
  const log = opts.log ?? (() => undefined)
  const dataDir = mkdtempSync(join(tmpdir(), `hivesight-${fault.id}-`))
  const mariadb = fault.privateMariaDb ? new PrivateMariaDb(await freePort()) : undefined
  await mariadb?.start()
  const isolatedHost = fault.isolatedWorker ? new IsolatedHost() : undefined
  isolatedHost?.create()
  const port = await freePort()
  // As deployed: API keys for the clients, session tokens for the workers (a restarted coordinator must
  // let its workers back in at once). Rate limits are not under test here.
  const databaseUrl = mariadb?.url ?? opts.databaseUrl
  const workerToken = randomBytes(24).toString('base64url')
  const { faults: apiKey } = await provisionApiKeys(['faults'], { dataDir, databaseUrl })
  const coordinator = new CoordinatorProcess({
    port, dataDir, databaseUrl,
    env: {
      PING_INTERVAL_MS: '2000', LEASE_MS: '30000', AUTH_MODE: 'keys', WORKER_TOKEN: workerToken, RATE_LIMIT_PER_MINUTE: '1000000',
      ...(isolatedHost ? { HOST: '0.0.0.0' } : {}),
    },
  })
  await coordinator.start()
  const api: Api = { url: coordinator.url, headers: { authorization: `Bearer ${apiKey}` } }
  // The isolated host reaches the coordinator through its veth, so it needs real (Chromium) workers.
  const fleet: Fleet = opts.fleet === 'simulated' && !isolatedHost
    ? new SimFleet(`${coordinator.url.replace('http', 'ws')}/ws/worker`, workerToken, fault.simulatedJobMs)
    : new ChromiumFleet(api, dataDir, workerToken)
  await Promise.all(Array.from({ length: opts.workers }, () => fleet.add()))
  const isolated = isolatedHost
    ? { host: isolatedHost, member: await fleet.add({ netns: isolatedHost.ns, coordinatorUrl: `http://${isolatedHost.hostIp}:${port}` }) }
    : undefined
  const ctx: FaultContext = {
    api,
    coordinator, fleet, requeueSeconds: [], notes: [], timeScale: opts.timeScale, mariadb, isolated,
    measureRequeue: (ids, since, timeoutMs = 30_000) => measureRequeue(api, ids, since, timeoutMs, ctx.requeueSeconds),
  }

  const uploads: AckedUpload[] = Array.from({ length: opts.jobs }, (_, i) => ({ key: `${fault.id}-${started}-${i}`, acks: [] }))
  const bodies = images(opts.jobs, fleet.kind, fault.poison ? Math.floor(opts.jobs / 2) : -1, `${fault.id}-${started}`)
  const clientSaw: Record<string, number> = {}
  let acked = 0
  let injected: Promise<void> | undefined
  const deadline = Date.now() + 300_000
  try {
    await mapLimit(uploads, 4, async (u, i) => {
      await uploadWithRetries(api, u.key, bodies[i]!, u, deadline, clientSaw)
      // A client that lost the first 202 in a crash retries: it must get the same jobs again.
      if (i % 10 === 0) await uploadWithRetries(api, u.key, bodies[i]!, u, deadline, clientSaw)
      acked++
      if (!injected && acked >= opts.jobs * 0.3) {
        log(`${fault.id}: injecting after ${acked} acknowledged uploads`)
        injected = fault.inject(ctx)
      }
      await new Promise((r) => setTimeout(r, 10))
    })
    await injected
    log(`${fault.id}: all uploads acknowledged; waiting for every job to finish`)
    const finals = await finalStates(api, [...new Set(uploads.flatMap((u) => u.acks.flat()))], 180_000)
    // Simulated workers answer class = attempt number, so an answer from a stale attempt is visible.
    const check = checkHistory(uploads, finals, fleet.kind === 'simulated' ? wnidOf : undefined)
    // Why jobs did not succeed, by error code (the poison job's IMAGE_DECODE_FAILED is expected in F11).
    const whyNot = new Map<string, number>()
    for (const job of finals.values()) {
      if (!job || job.status === 'succeeded') continue
      const why = `${job.status} ${job.error?.code ?? '?'}`
      whyNot.set(why, (whyNot.get(why) ?? 0) + 1)
    }
    if (whyNot.size > 0) ctx.notes.push(`not succeeded: ${[...whyNot].map(([k, n]) => `${k} ×${n}`).join(', ')}`)
    const req = ctx.requeueSeconds
    // The log is appended to across restarts (F5), so it counts what every run of the coordinator did.
    const logLines = readFileSync(join(dataDir, 'coordinator.log'), 'utf8').split('\n')
    const bufferedAnswers = logLines.filter((l) => l.includes('answer buffered')).length
    const refusedAnswers = logLines.filter((l) => l.includes('refused a stale')).length
    const retried = [...finals.values()].filter((j) => j?.status === 'succeeded' && j.attempts > 1).length
    return {
      bufferedAnswers, refusedAnswers, retried,
      id: fault.id, title: fleet.kind === 'simulated' ? fault.simulatedTitle ?? fault.title : fault.title, fleet: fleet.kind, ...check, clientSaw,
      staleAnswersSent: fleet instanceof SimFleet ? fleet.events.staleAnswersSent : null,
      requeueMedianS: req.length ? percentile(req, 50) : null, requeueMaxS: req.length ? Math.max(...req) : null,
      notes: ctx.notes, seconds: (Date.now() - started) / 1000,
    }
  } finally {
    await fleet.stop()
    isolatedHost?.destroy()
    await coordinator.kill('SIGTERM')
    await mariadb?.destroy()
    // KEEP_FAULT_DIR=1 keeps the coordinator's log and data for a look after a failed run.
    if (!process.env.KEEP_FAULT_DIR) rmSync(dataDir, { recursive: true, force: true })
  }
}

async function getJob(api: Api, id: string): Promise<JobView | undefined> {
  const res = await fetch(`${api.url}/api/v1/jobs/${id}`, { headers: api.headers }).catch(() => undefined)
  return res?.ok ? ((await res.json()) as JobView) : undefined
}

const FINAL = ['succeeded', 'failed', 'canceled', 'dead']

async function finalStates(api: Api, ids: string[], timeoutMs: number): Promise<Map<string, JobView | undefined>> {
  const finals = new Map<string, JobView | undefined>()
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    await mapLimit(ids.filter((id) => !finals.has(id)), 16, async (id) => {
      const job = await getJob(api, id)
      if (job && FINAL.includes(job.status)) finals.set(id, job)
    })
    if (finals.size === ids.length) break
    await new Promise((r) => setTimeout(r, 250))
  }
  return finals
}

async function measureRequeue(api: Api, ids: string[], since: number, timeoutMs: number, out: number[]): Promise<void> {
  const original = new Map<string, string | null>()
  for (const id of ids) original.set(id, (await getJob(api, id))?.workerId ?? null)
  const pending = new Set(ids)
  const end = Date.now() + timeoutMs
  while (pending.size > 0 && Date.now() < end) {
    await Promise.all([...pending].map(async (id) => {
      const job = await getJob(api, id)
      if (!job) return
      const elsewhere = job.workerId !== original.get(id)
      if ((job.status === 'running' || FINAL.includes(job.status)) && elsewhere) {
        out.push((Date.now() - since) / 1000)
        pending.delete(id)
      } else if (FINAL.includes(job.status)) {
        pending.delete(id) // its answer got through before the fault: nothing to requeue
      }
    }))
    await new Promise((r) => setTimeout(r, 50))
  }
}

const LABELS = JSON.parse(readFileSync(join(process.env.MODEL_DIR ?? DEFAULT_MODEL_DIR, 'labels.json'), 'utf8')) as { wnid: string | null }[]
const wnidOf = (attempt: number): string => LABELS[attempt]?.wnid ?? `attempt-${attempt}`
