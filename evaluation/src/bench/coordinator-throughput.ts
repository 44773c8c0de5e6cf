import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDb, migrateToLatest, type Db } from '@hivesight/coordinator'
import { v7 as uuidv7 } from 'uuid'
import { throwawayDatabase } from '../cluster/throwaway-mariadb.ts'
import { CoordinatorProcess } from '../harness/coordinator-process.ts'
import { freePort } from '../harness/free-port.ts'
import { NoopFleet } from './noop-fleet.ts'
import { multipartBody, uploadsAtRate } from './upload-load.ts'

export type Storage = 'mariadb' | 'sqlite'

/** Coordinator processes on one database (a throwaway MariaDB schema, or the embedded SQLite file). */
export class BenchCluster {
  private constructor(readonly nodes: CoordinatorProcess[], readonly db: Db, private readonly cleanup: () => Promise<void>) {}

  get urls(): string[] {
    return this.nodes.map((n) => n.url)
  }

  static async start(storage: Storage, coordinators: number, env: Record<string, string> = {}): Promise<BenchCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'hivesight-bench-'))
    const database = storage === 'mariadb' ? await throwawayDatabase('hivesight_bench') : undefined
    const db = database ? createDb({ databaseUrl: database.url }) : createDb({ sqliteFile: join(dir, 'c1', 'hivesight.sqlite') })
    await migrateToLatest(db.kysely)
    const nodes: CoordinatorProcess[] = []
    for (let i = 0; i < coordinators; i++) {
      mkdirSync(join(dir, `c${i + 1}`), { recursive: true })
      nodes.push(new CoordinatorProcess({ port: await freePort(), dataDir: join(dir, `c${i + 1}`), databaseUrl: database?.url, env: { COORDINATOR_ID: `bench-${i + 1}`, LOG_LEVEL: 'warn', MAX_WORKER_CONNECTIONS_PER_IP: '10000', ...env } }))
    }
    await Promise.all(nodes.map((n) => n.start()))
    return new BenchCluster(nodes, db, async () => {
      await Promise.all(nodes.map((n) => n.kill('SIGTERM')))
      await db.kysely.destroy()
      await database?.drop()
      rmSync(dir, { recursive: true, force: true })
    })
  }

  /** Queued jobs written straight into the database (what uploads would have stored), in big batches. */
  async preload(n: number, image: Buffer): Promise<void> {
    const now = Date.now()
    for (let i = 0; i < n; i += 500) {
      const rows = Array.from({ length: Math.min(500, n - i) }, () => ({
        id: uuidv7(), status: 'queued' as const, priority: 0, attempts: 0, max_attempts: 5, lease_token: 0, submitted_at: now, available_at: now,
        filename: 'bench.png', content_type: 'image/png', byte_size: image.length, width: 48, height: 32, owner_key_id: null,
      }))
      await this.db.kysely.transaction().execute(async (trx) => {
        await trx.insertInto('jobs').values(rows).execute()
        await trx.insertInto('images').values(rows.map((r) => ({ job_id: r.id, bytes: image }))).execute()
      })
    }
  }

  async succeeded(): Promise<number> {
    const r = await this.db.kysely.selectFrom('jobs').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'succeeded').executeTakeFirstOrThrow()
    return Number(r.n)
  }

  stop(): Promise<void> {
    return this.cleanup()
  }
}

/**
 * Jobs per second through the coordinator(s) alone: `jobs` queued jobs, `sockets` no-op workers spread
 * over the coordinators, timed from the first worker's connect to the last result committed.
 */
export async function dispatchThroughput(opts: { storage: Storage; coordinators: number; jobs: number; sockets: number; slots: number; image: Buffer; onEach?: () => void }): Promise<{ perSecond: number; committed: number }> {
  const cluster = await BenchCluster.start(opts.storage, opts.coordinators)
  try {
    await cluster.preload(opts.jobs, opts.image)
    const t0 = performance.now()
    const fleet = await NoopFleet.connect(cluster.urls, opts.sockets, opts.slots)
    fleet.onEach = opts.onEach
    try {
      await fleet.whenAnswered(opts.jobs, 300_000)
      // Answers sent are not results stored: wait for the last group commit.
      const end = Date.now() + 30_000
      let committed = await cluster.succeeded()
      while (committed < opts.jobs && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 5))
        committed = await cluster.succeeded()
      }
      return { perSecond: committed / ((performance.now() - t0) / 1000), committed }
    } finally {
      fleet.close()
    }
  } finally {
    await cluster.stop()
  }
}

/**
 * Upload → job at a worker, at a fixed rate: requests of `perRequest` images paced to `perSecond` jobs a
 * second for `seconds`, against one coordinator with `sockets` no-op workers; latency from the request
 * being sent to the job.assign frame arriving.
 */
export async function dispatchLatencyAtRate(opts: { storage: Storage; perSecond: number; seconds: number; perRequest: number; sockets: number; image: Buffer }): Promise<{ achievedPerSecond: number; p50Ms: number; p99Ms: number; samples: number; failed: number }> {
  const cluster = await BenchCluster.start(opts.storage, 1)
  try {
    const fleet = await NoopFleet.connect(cluster.urls, opts.sockets, 4)
    fleet.recordArrivals = true
    try {
      const upload = multipartBody(opts.image, 'bench.png', 'image/png', opts.perRequest)
      // Warm-up: connections, statement caches, JIT.
      await uploadsAtRate(cluster.urls[0]!, upload, Math.max(10, opts.perSecond / opts.perRequest / 2), 1)
      const r = await uploadsAtRate(cluster.urls[0]!, upload, opts.perSecond / opts.perRequest, opts.seconds)
      const end = Date.now() + 10_000
      while ([...r.sentAt.keys()].some((id) => !fleet.arrivedAt.has(id)) && Date.now() < end) await new Promise((res) => setTimeout(res, 20))
      const latencies = [...r.sentAt].flatMap(([id, t]) => (fleet.arrivedAt.has(id) ? [fleet.arrivedAt.get(id)! - t] : [])).sort((a, b) => a - b)
      const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? NaN
      return { achievedPerSecond: r.achievedPerSecond * opts.perRequest, p50Ms: at(0.5), p99Ms: at(0.99), samples: latencies.length, failed: r.failed }
    } finally {
      fleet.close()
    }
  } finally {
    await cluster.stop()
  }
}
