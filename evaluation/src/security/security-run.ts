import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { REPO_ROOT } from '@hivesight/coordinator'
import { CoordinatorProcess } from '../harness/coordinator-process.ts'
import { freePort } from '../harness/free-port.ts'
import { startHeadlessWorkers } from '../harness/local-system.ts'
import { provisionApiKeys } from '../harness/provision.ts'
import type { TopLevelSpec } from 'vega-lite'
import { Progress } from '../report/progress.ts'
import { Http, type AttackTarget } from './attack-context.ts'
import { AttackFailed, ATTACKS, type Attack } from './attacks.ts'

export interface AttackRow {
  attack: Attack
  passed: number
  /** What the last run of it observed (or why it failed). */
  observed: string
  failures: string[]
}

export interface SecurityReport {
  rows: AttackRow[]
  rounds: number
  requests: number
  /** HTTP answers with a 5xx status, over every request of every attack. */
  serverErrors: number
  /** Lines the coordinator logged at error level or worse (a handler that threw, a crash). */
  errorLogs: string[]
  /** The coordinator process was alive after every round. */
  survived: boolean
  /** Resident memory of the coordinator after each round (MiB); [0] is after start-up and the worker joining. */
  rssMiB: number[]
  peakMiB: number
  /** Largest RSS after any later round minus RSS after round 1 (warm-up), in MiB. */
  growthMiB: number
  /** Least-squares slope of RSS over the rounds after warm-up (MiB per round): a leak shows as a steady rise. */
  trendMiBPerRound: number
  seconds: number
}

const mib = (bytes: number) => bytes / 1024 / 1024

function slope(ys: number[]): number {
  if (ys.length < 2) return 0
  const n = ys.length
  const mx = (n - 1) / 2
  const my = ys.reduce((a, b) => a + b, 0) / n
  let num = 0
  let den = 0
  for (const [x, y] of ys.entries()) {
    num += (x - mx) * (y - my)
    den += (x - mx) ** 2
  }
  return num / den
}
const DATASET = process.env.DATASET_DIR ?? resolve(REPO_ROOT, '../shared/datasets/imagenet-val-dev')

/**
 * Every attack of the catalogue, `rounds` times over, against a real coordinator process (API keys, worker
 * tokens, tight limits) with a real headless Chromium worker; measures the coordinator's memory per round.
 */
export async function runSecuritySuite(opts: { rounds: number; log: (m: string) => void; only?: string[]; progress?: boolean }): Promise<SecurityReport> {
  const started = performance.now()
  const dataDir = mkdtempSync(join(tmpdir(), 'hivesight-attacks-'))
  const secrets = { workerToken: randomBytes(24).toString('base64url'), joinToken: randomBytes(24).toString('base64url') }
  const keys = await provisionApiKeys(['alice', 'bob', 'flood'], { dataDir })

  const port = await freePort()
  const target: AttackTarget = {
    url: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/ws/worker`, keys, secrets,
    requestTimeoutMs: 2_000, maxImageBytes: 1024 * 1024, maxImagesPerRequest: 8, maxConnectionsPerIp: 16, rateLimitPerMinute: 1_000, corsOrigin: 'https://dashboard.example',
  }
  const coordinator = new CoordinatorProcess({
    port, dataDir, env: {
      AUTH_MODE: 'keys', WORKER_TOKEN: secrets.workerToken, JOIN_TOKEN: secrets.joinToken, RATE_LIMIT_PER_MINUTE: String(target.rateLimitPerMinute),
      MAX_IMAGE_BYTES: String(target.maxImageBytes), MAX_IMAGES_PER_REQUEST: String(target.maxImagesPerRequest),
      MAX_WORKER_CONNECTIONS_PER_IP: String(target.maxConnectionsPerIp), REQUEST_TIMEOUT_MS: String(target.requestTimeoutMs),
      CORS_ORIGINS: target.corsOrigin, LOG_LEVEL: 'warn',
    },
  })
  const http = new Http(target.url)
  const attacks = ATTACKS.filter((a) => !opts.only || opts.only.includes(a.id))
  const rows: AttackRow[] = attacks.map((attack) => ({ attack, passed: 0, observed: '', failures: [] }))
  const rssMiB: number[] = []
  let survived = true
  await coordinator.start()
  const pool = await startHeadlessWorkers(target.url, 1, (m) => opts.log(`worker: ${m}`), secrets.workerToken)
  try {
    rssMiB.push(mib(coordinator.memory().rss))
    const photo = readFileSync(join(DATASET, 'val-orig', readdirSync(join(DATASET, 'val-orig')).sort()[0]!))
    const progress = opts.progress === false ? undefined : new Progress(opts.rounds * attacks.length)
    for (let round = 1; round <= opts.rounds && survived; round++) {
      for (const row of rows) {
        try {
          row.observed = await row.attack.run({ target, http, photo, tag: `${round}-${randomBytes(3).toString('hex')}` })
          row.passed++
        } catch (err) {
          row.observed = err instanceof AttackFailed ? `UNEXPECTED: ${err.message}` : `ERROR: ${err instanceof Error ? err.message : String(err)}`
          row.failures.push(`round ${round}: ${row.observed}`)
        }
        progress?.tick(`round ${round}/${opts.rounds} · ${row.attack.id}`)
      }
      survived = coordinator.alive
      if (survived) rssMiB.push(mib(coordinator.memory().rss))
    }
    progress?.end()
    const healthy = survived && (await http.request('/healthz')).status === 200
    const peak = survived ? mib(coordinator.memory().peak) : NaN
    const errorLogs = readFileSync(join(dataDir, 'coordinator.log'), 'utf8').split('\n').filter((l) => /"level":(50|60)/.test(l))
    return {
      rows, rounds: opts.rounds, requests: http.statuses.length, serverErrors: http.statuses.filter((s) => s >= 500).length,
      errorLogs, survived: healthy, rssMiB, peakMiB: peak,
      growthMiB: rssMiB.length > 2 ? Math.max(...rssMiB.slice(2)) - rssMiB[1]! : 0,
      trendMiBPerRound: slope(rssMiB.slice(1)),
      seconds: (performance.now() - started) / 1000,
    }
  } finally {
    await pool.stop()
    await coordinator.kill('SIGTERM')
    rmSync(dataDir, { recursive: true, force: true })
  }
}

/** The README's table: each attack, the promised outcome, and what this run saw. */
export function formatSecurityTable(r: SecurityReport): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').slice(0, 140)
  const lines = [
    '| id | attack | expected | observed (last round) | passed |',
    '|----|--------|----------|-----------------------|--------|',
    ...r.rows.map((row) => `| ${row.attack.id} | ${cell(row.attack.title)} | ${cell(row.attack.expected)} | ${cell(row.observed)} | ${row.passed}/${r.rounds} |`),
  ]
  const rss = r.rssMiB.map((m) => m.toFixed(0)).join(' → ')
  lines.push('', `${r.requests} HTTP requests, ${r.serverErrors} answered 5xx; coordinator ${r.survived ? 'alive and healthy' : 'DIED'} after ${r.rounds} round(s); ` +
    `${r.errorLogs.length} error-level log lines. Coordinator RSS per round (MiB): ${rss}; peak ${r.peakMiB.toFixed(0)} MiB; ` +
    `growth after warm-up ${r.growthMiB.toFixed(1)} MiB, trend ${r.trendMiBPerRound >= 0 ? '+' : ''}${r.trendMiBPerRound.toFixed(2)} MiB/round. ${r.seconds.toFixed(0)} s.`)
  return lines.join('\n')
}

/** RSS per round as a line: flat (or a saw-tooth of garbage collections) is bounded, a steady rise is a leak. */
export function securityMemoryChart(r: SecurityReport): TopLevelSpec {
  return {
    title: { text: 'Coordinator memory under the attack suite', subtitle: `${r.rounds} rounds × ${r.rows.length} attacks, ${r.requests} HTTP requests, ${r.serverErrors} answered 5xx` },
    width: 560, height: 260,
    data: { values: r.rssMiB.map((rss, round) => ({ round, rss })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'round', type: 'quantitative', title: 'after round (0 = started, worker joined)', axis: { tickMinStep: 1 } },
      y: { field: 'rss', type: 'quantitative', title: 'resident memory (MiB)', scale: { zero: true } },
    },
  }
}
