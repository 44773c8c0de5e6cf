import { randomUUID } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDb } from '@hivesight/coordinator'
import type { SubmitResponse } from '@hivesight/protocol'
import sharp from 'sharp'
import { mapLimit } from '../client/hivesight-client.ts'
import { CoordinatorProcess } from '../harness/coordinator-process.ts'
import { freePort } from '../harness/free-port.ts'
import type { PagePool } from '@hivesight/worker-runtime/page-pool'
import { startHeadlessWorkers, until } from '../harness/local-system.ts'
import { overlappingHolds } from './holds.ts'
import { RecordingWorker, type FleetLog } from './recording-worker.ts'
import { throwawayDatabase } from './throwaway-mariadb.ts'

export interface ClusterRunOptions {
  coordinators: number
  jobs: number
  imagesPerRequest: number
  /** simulated: protocol peers that record every hold; chromium: one worker runtime (headless Chromium, the real model) per coordinator. */
  fleet?: 'simulated' | 'chromium'
  /** Simulated workers (Chromium: pages per runtime). */
  workers: number
  slots: number
  /** Images to upload (Chromium runs); a generated PNG when absent. */
  images?: string[]
  /** The last coordinator runs with its clock this far ahead. */
  skewMs: number
  log?: (m: string) => void
}

export interface ClusterRunResult {
  requests: number
  accepted: number
  jobsInDatabase: number
  lost: number
  duplicated: number
  /** null with Chromium workers: only simulated workers record what they held when. */
  leasedTwiceAtOnce: number | null
  imageMissing: number
  byStatus: Record<string, number>
  clientSaw: Record<string, number>
  /** Upload to coordinator C → job at a worker connected to coordinator A. */
  crossWakeMs: number
  /** DELETE on coordinator B → job.cancel at the worker on coordinator A. */
  crossCancelMs: number
  canceledStatus: string
  killedAfterAcks: number
  seconds: number
}

const FINAL = new Set(['succeeded', 'failed', 'canceled', 'dead'])

/**
 * Peer coordinators as deployed: N coordinator processes on one MariaDB, simulated workers spread over
 * them (moving to another coordinator when theirs dies), clients submitting to random coordinators with
 * Idempotency-Keys and retrying elsewhere on any failure. One coordinator is killed -9 mid-run and
 * restarted; the last one's clock is `skewMs` ahead. Every acknowledged job must finish exactly once.
 */
export async function runCluster(opts: ClusterRunOptions): Promise<ClusterRunResult> {
  const log = opts.log ?? (() => undefined)
  const started = performance.now()
  const database = await throwawayDatabase('hivesight_cluster')
  const dataDir = mkdtempSync(join(tmpdir(), 'hivesight-cluster-'))
  const nodes: CoordinatorProcess[] = []
  const workers: RecordingWorker[] = []
  const runtimes: PagePool[] = []
  try {
    for (let i = 0; i < opts.coordinators; i++) {
      const skew = i === opts.coordinators - 1 ? opts.skewMs : 0
      const dir = join(dataDir, `c${i + 1}`)
      mkdirSync(dir)
      nodes.push(new CoordinatorProcess({
        port: await freePort(), dataDir: dir, databaseUrl: database.url,
        env: { COORDINATOR_ID: `c${i + 1}`, PING_INTERVAL_MS: '1000', LEASE_MS: '10000', EVENT_POLL_MS: '50', CLOCK_SKEW_MS: String(skew), LOG_LEVEL: 'info' },
      }))
    }
    // The first one migrates the fresh database; the others find it ready.
    await nodes[0]!.start()
    await Promise.all(nodes.slice(1).map((n) => n.start()))
    const urls = nodes.map((n) => n.url)
    log(`${nodes.length} coordinators up on one MariaDB (${urls.join(', ')}); c${nodes.length} runs ${opts.skewMs / 1000} s ahead`)
    const generated = await sharp({ create: { width: 48, height: 32, channels: 3, background: { r: 200, g: 120, b: 40 } } }).png().toBuffer()
    const photos = await Promise.all((opts.images ?? []).map((p) => readFile(p)))
    let nextPhoto = 0
    // The same key must carry the same content on every retry: pick a request's images once.
    const contentOf = new Map<string, Buffer[]>()
    const submitTo = async (url: string, key: string, n: number): Promise<{ status: number; body?: SubmitResponse }> => {
      const form = new FormData()
      if (!contentOf.has(key)) contentOf.set(key, Array.from({ length: n }, () => (photos.length > 0 ? photos[nextPhoto++ % photos.length]! : generated)))
      for (const [i, img] of contentOf.get(key)!.entries()) form.append('image', new Blob([new Uint8Array(img)], { type: photos.length > 0 ? 'image/jpeg' : 'image/png' }), `img-${i}.${photos.length > 0 ? 'jpg' : 'png'}`)
      const res = await fetch(`${url}/api/v1/jobs`, { method: 'POST', body: form, headers: { 'idempotency-key': key }, signal: AbortSignal.timeout(10_000) })
      return { status: res.status, body: res.status === 202 ? ((await res.json()) as SubmitResponse) : (await res.body?.cancel(), undefined) }
    }
    const fleetLog: FleetLog = { holds: [], assigned: [], canceled: [] }

    // 1. Signals: an upload to the last coordinator wakes a worker on the first; a cancel sent to the second reaches it.
    const probe = new RecordingWorker('probe', [urls[0]!], fleetLog, { slots: 1, latencyMs: () => 0 })
    probe.holdJobs = true
    await probe.start()
    const t0 = performance.now()
    const probeJob = (await submitTo(urls[urls.length - 1]!, randomUUID(), 1)).body!.jobs[0]!.id
    await until(() => probe.holding.includes(probeJob), 10_000, 'the probe job at the worker on c1')
    const crossWakeMs = fleetLog.assigned.find((a) => a.jobId === probeJob)!.at - t0
    const t1 = performance.now()
    const cancel = await fetch(`${urls[1 % urls.length]}/api/v1/jobs/${probeJob}`, { method: 'DELETE' })
    await until(() => fleetLog.canceled.some((c) => c.jobId === probeJob), 10_000, 'job.cancel at the worker on c1')
    const crossCancelMs = fleetLog.canceled.find((c) => c.jobId === probeJob)!.at - t1
    const canceledStatus = ((await cancel.json()) as { status: string }).status
    await probe.stop()
    log(`signals: upload on c${urls.length} → worker on c1 in ${crossWakeMs.toFixed(0)} ms; cancel on c2 → worker on c1 in ${crossCancelMs.toFixed(0)} ms`)

    // 2. Load, with a coordinator killed -9 and restarted in the middle.
    if (opts.fleet === 'chromium') {
      // One runtime per coordinator, as worker VMs pointed at different coordinators (or a balancer) would be.
      for (const [i, url] of urls.entries()) runtimes.push(await startHeadlessWorkers(url, opts.workers, (m) => log(`runtime ${i + 1}: ${m}`)))
      log(`${runtimes.length} worker runtimes with ${opts.workers} headless Chromium page(s) each`)
    } else {
      for (let i = 0; i < opts.workers; i++) {
        workers.push(new RecordingWorker(`w${i + 1}`, urls, fleetLog, { slots: opts.slots, latencyMs: () => 2 + Math.random() * 8, startAt: i }))
      }
      await Promise.all(workers.map((w) => w.start()))
    }
    const requests = Math.ceil(opts.jobs / opts.imagesPerRequest)
    const clientSaw: Record<string, number> = {}
    const idsByKey = new Map<string, Set<string>>()
    let acks = 0
    let killedAfterAcks = 0
    const victim = nodes[1 % nodes.length]!
    let chaos: Promise<void> | undefined
    await mapLimit(Array.from({ length: requests }), 8, async () => {
      const key = randomUUID()
      idsByKey.set(key, new Set())
      for (let attempt = 0; ; attempt++) {
        const url = urls[Math.floor(Math.random() * urls.length)]!
        const r = await submitTo(url, key, opts.imagesPerRequest).catch(() => ({ status: 0, body: undefined }))
        clientSaw[r.status] = (clientSaw[r.status] ?? 0) + 1
        if (r.body) {
          for (const j of r.body.jobs) idsByKey.get(key)!.add(j.id)
          if (++acks % Math.max(1, Math.floor(requests / 10)) === 0) log(`${acks}/${requests} requests acknowledged`)
          if (acks === Math.floor(requests * 0.4)) {
            killedAfterAcks = acks
            chaos = (async () => {
              log(`kill -9 of c2 after ${acks} acknowledged requests`)
              await victim.kill('SIGKILL')
              await new Promise((r) => setTimeout(r, 1_000))
              await victim.start()
              log('c2 restarted')
            })()
          }
          return
        }
        if (attempt > 200) throw new Error(`request ${key} was never accepted: last status ${r.status}`)
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 100))
      }
    })
    await chaos

    // 3. Every acknowledged job must end: read the shared database.
    const db = createDb({ databaseUrl: database.url })
    try {
      const accepted = [...idsByKey.values()].flatMap((s) => [...s])
      const statusOf = async () => {
        const rows = await db.kysely.selectFrom('jobs').select(['id', 'status', 'error_code']).execute()
        return new Map(rows.map((r) => [r.id, r]))
      }
      let lastReport = performance.now()
      await until(async () => {
        const rows = await statusOf()
        const final = accepted.filter((id) => FINAL.has(rows.get(id)?.status ?? '')).length
        if (performance.now() - lastReport > 5_000) {
          lastReport = performance.now()
          log(`${final}/${accepted.length} jobs final`)
        }
        return final === accepted.length
      }, opts.fleet === 'chromium' ? 900_000 : 120_000, 'every acknowledged job final')
      const rows = await statusOf()
      const byStatus: Record<string, number> = {}
      for (const id of accepted) byStatus[rows.get(id)?.status ?? 'missing'] = (byStatus[rows.get(id)?.status ?? 'missing'] ?? 0) + 1
      await Promise.all(workers.map((w) => w.stop()))
      return {
        requests,
        accepted: accepted.length,
        jobsInDatabase: rows.size - 1, // the probe job is not one of the load's
        lost: accepted.filter((id) => rows.get(id)?.status !== 'succeeded').length,
        duplicated: [...idsByKey.values()].filter((s) => s.size !== opts.imagesPerRequest).length,
        leasedTwiceAtOnce: opts.fleet === 'chromium' ? null : overlappingHolds(fleetLog.holds).length,
        imageMissing: [...rows.values()].filter((r) => r.error_code === 'IMAGE_MISSING').length,
        byStatus, clientSaw, crossWakeMs, crossCancelMs, canceledStatus, killedAfterAcks,
        seconds: (performance.now() - started) / 1000,
      }
    } finally {
      await db.kysely.destroy()
    }
  } finally {
    await Promise.all(workers.map((w) => w.stop()))
    await Promise.all(runtimes.map((r) => r.stop()))
    await Promise.all(nodes.map((n) => n.kill('SIGTERM')))
    await database.drop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}
