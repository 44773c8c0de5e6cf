import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT } from '@hivesight/coordinator'
import type { JobPage, JobView } from '@hivesight/protocol'
import { percentile } from '../accuracy/accuracy-report.ts'
import { onExit } from '../bench/children.ts'
import { EndToEndSystem } from '../bench/e2e-system.ts'
import type { LabelledImage } from '../dataset/labelled-dataset.ts'
import type { ClientItem, ClientReport } from './client.main.ts'
import { LossyLink } from './link.ts'

export type Variant = 'ours' | 'student'
export interface LossRow {
  loss: number
  variant: string
  throughput: number
  goodput: number
  submitted: number
  accepted: number
  completed: number
  lost: number
  duplicated: number
  /** Jobs the coordinator made that the client never saw acknowledged (a timeout after the commit). */
  unacknowledgedJobs: number
  accuracy: number | null
  avgExecutionS: number | null
  /** Completed images per second, first upload → last result. */
  completedPerS: number
  latencyMs: { p50: number | null; p95: number | null; p99: number | null }
  attempts: number
  bytesPerImage: number
  /** Images sent model-sized rather than as they are. */
  shrunk: number
  uploadPhaseS: number
}
export interface LossOptions {
  images: LabelledImage[]
  rates: number[]
  mbit: number
  bothWays: boolean
  variants: { name: string; mode: Variant; args: string[]; tcp?: { rtoMinMs?: number; thinLinear?: boolean } }[]
  deadlineS: number
  log: (m: string) => void
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const FINAL = new Set(['succeeded', 'failed', 'canceled', 'dead'])

async function jobsOfRun(url: string, tag: string): Promise<JobView[]> {
  const out: JobView[] = []
  for (let cursor: string | null = null; ;) {
    const res = await fetch(`${url}/api/v1/jobs?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
    if (!res.ok) throw new Error(`GET /api/v1/jobs answered ${res.status}`)
    const page = (await res.json()) as JobPage
    out.push(...page.jobs.filter((j) => j.filename?.startsWith(`${tag}-`)))
    if (!page.nextCursor) return out
    cursor = page.nextCursor
  }
}

/** Waits (≤ 120 s, over loopback, not the lossy link) until every job of the run is final. */
async function drained(url: string, tag: string): Promise<JobView[]> {
  const end = Date.now() + 120_000
  for (;;) {
    const jobs = await jobsOfRun(url, tag)
    if (jobs.every((j) => FINAL.has(j.status)) || Date.now() > end) return jobs
    await sleep(500)
  }
}

function runClient(ns: string, args: string[], log: (m: string) => void): Promise<ClientReport> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', 'evaluation/src/loss/client.main.ts', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    const off = onExit(() => child.kill('SIGKILL'))
    let out = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr.on('data', (c: Buffer) => c.toString().split(/[\r\n]+/).filter(Boolean).forEach((l) => log(`    ${l.trim()}`)))
    child.once('exit', () => {
      off()
      const last = out.trim().split('\n').pop() ?? ''
      try {
        const msg = JSON.parse(last) as ClientReport | { error: string }
        if ('error' in msg) reject(new Error(`the client failed: ${msg.error}`))
        else resolve(msg)
      } catch {
        reject(new Error(`the client printed no report: ${out.slice(-300)}`))
      }
    })
  })
}

export function rowOf(loss: number, variant: string, r: ClientReport, jobs: JobView[], labels: Map<string, string>): LossRow {
  const byId = new Map(jobs.map((j) => [j.id, j]))
  // Keys are `<tag>-<i>` and filenames `<key>-<name>`: the trailing dash keeps `-1-` apart from `-10-`.
  const jobsOfKey = (key: string) => jobs.filter((j) => j.filename?.startsWith(`${key}-`)).length
  const acked = r.outcomes.filter((o) => o.acks.length > 0)
  const ids = new Set(acked.flatMap((o) => o.acks.flat()))
  const lost = [...ids].filter((id) => !FINAL.has(byId.get(id)?.status ?? 'missing')).length
  const duplicated = r.outcomes.filter((o) => new Set(o.acks.map((a) => a.join())).size > 1 || jobsOfKey(o.key) > 1).length
  const ok = [...ids].map((id) => byId.get(id)).filter((j): j is JobView => j?.status === 'succeeded' && j.result !== null)
  const right = ok.filter((j) => labels.get(j.filename ?? '') === j.result!.predictions[0]?.wnid).length
  const lastFinish = Math.max(r.startWall, ...ok.map((j) => j.finishedAt ?? 0))
  const lat = r.outcomes.map((o) => o.latencyMs).filter((x): x is number => x !== null)
  const q = (p: number) => (lat.length ? percentile(lat, p) : null)
  return {
    loss, variant,
    throughput: r.attempted / r.uploadPhaseS, goodput: r.accepted / r.uploadPhaseS,
    submitted: r.images, accepted: r.accepted, completed: ok.length, lost, duplicated,
    unacknowledgedJobs: jobs.filter((j) => !ids.has(j.id)).length,
    accuracy: ok.length ? right / ok.length : null,
    avgExecutionS: ok.length ? ok.reduce((s, j) => s + (j.finishedAt! - j.submittedAt), 0) / ok.length / 1000 : null,
    completedPerS: ok.length / Math.max(0.001, (lastFinish - r.startWall) / 1000),
    latencyMs: { p50: q(50), p95: q(95), p99: q(99) },
    attempts: r.attempted, bytesPerImage: r.bytesPerImage, shrunk: r.shrunk ?? 0, uploadPhaseS: r.uploadPhaseS,
  }
}

/** The whole experiment: one system, one link; per rate, each client variant in turn on a drained system. */
export async function runLossExperiment(o: LossOptions, onRow: (row: LossRow) => void): Promise<LossRow[]> {
  const link = new LossyLink()
  const work = mkdtempSync(join(tmpdir(), 'hivesight-loss-'))
  const offLink = onExit(() => link.destroy())
  const system = await EndToEndSystem.start({ HOST: '0.0.0.0' })
  const rows: LossRow[] = []
  try {
    link.create(o.mbit)
    system.startRuntime({})
    const workers = await system.waitWorkers(undefined, 120_000)
    o.log(`coordinator ${system.url} (the client reaches it at ${link.host.hostIp}), ${workers.length} worker page(s), ${o.mbit} Mbit/s`)
    const url = `http://${link.host.hostIp}:${system.port}`
    for (const [ri, loss] of o.rates.entries()) {
      for (const v of o.variants) {
        const tag = `r${ri}${v.name.replace(/[^a-z]/gi, '')}${Date.now() % 100000}`
        const items: ClientItem[] = o.images.map((im, i) => ({ key: `${tag}-${i}`, path: im.path }))
        const labels = new Map(o.images.map((im, i) => [`${tag}-${i}-${im.path.split('/').pop()}`, im.wnid]))
        const list = join(work, `${tag}.json`)
        writeFileSync(list, JSON.stringify(items))
        o.log(`loss ${loss}${o.bothWays ? ' both ways' : ''}, ${v.name}: ${items.length} images…`)
        link.setLoss(loss, o.bothWays)
        link.setLinkTcp(v.tcp ?? {})
        let report: ClientReport
        try {
          report = await runClient(link.ns, ['--url', url, '--list', list, '--mode', v.mode, '--deadline-s', String(o.deadlineS), ...v.args], o.log)
        } finally {
          link.clearLoss()
          link.setLinkTcp({})
        }
        const row = rowOf(loss, v.name, report, await drained(system.url, tag), labels)
        rows.push(row)
        onRow(row)
      }
    }
    return rows
  } finally {
    await system.stop().catch(() => undefined)
    link.destroy()
    offLink()
    rmSync(work, { recursive: true, force: true })
  }
}
