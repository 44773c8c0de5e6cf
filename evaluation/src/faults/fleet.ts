import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from '@hivesight/coordinator'
import type { JobPage, WorkerList } from '@hivesight/protocol'
import { signSessionToken } from '@hivesight/protocol/session-token'
import { findChromium } from '@hivesight/worker-runtime/chromium-path'
import type { Api } from '../harness/api.ts'
import { descendants, isBrowserMain, signalAll } from './process-tree.ts'
import { AutoWorker, type FleetEvents } from './sim-fleet.ts'

/** One worker (simulated) or one worker runtime with its Chromium (real), as a fault sees it. */
export interface FleetMember {
  readonly name: string
  /** Ids of the jobs this member holds right now. */
  held(): Promise<string[]>
  kill(): void
  freeze(): void
  thaw(): void
  drain(): Promise<void>
}

export interface Fleet {
  readonly kind: 'simulated' | 'chromium'
  readonly members: FleetMember[]
  add(opts?: { netns?: string; coordinatorUrl?: string }): Promise<FleetMember>
  stop(): Promise<void>
}

export class SimFleet implements Fleet {
  readonly kind = 'simulated'
  readonly members: FleetMember[] = []
  readonly events: FleetEvents = { assigned: [], staleAnswersSent: 0 }
  /** `workerToken`: the coordinator's WORKER_TOKEN; each simulated worker derives its own session token. */
  constructor(private readonly wsUrl: string, private readonly workerToken: string, private readonly jobMs = 40) {}

  async add(): Promise<FleetMember> {
    const name = `sim-${this.members.length + 1}`
    const token = signSessionToken(this.workerToken, { kind: 'worker', name, expires: 0 })
    const w = new AutoWorker(this.wsUrl, name, this.events, { slots: 2, latencyMs: this.jobMs, token })
    w.start()
    const member: FleetMember = {
      name: w.name, held: async () => w.holding, kill: () => w.kill(), freeze: () => w.freeze(), thaw: () => w.thaw(), drain: () => w.drain(),
    }
    this.members.push(member)
    return member
  }

  async stop(): Promise<void> {
    for (const m of this.members) m.kill()
  }
}

/** Real worker runtimes (`npm run worker`), one page each, as child processes whose Chromium we can signal. */
export class ChromiumFleet implements Fleet {
  readonly kind = 'chromium'
  readonly members: FleetMember[] = []
  private readonly children: ChildProcess[] = []
  constructor(private readonly api: Api, private readonly logDir: string, private readonly workerToken: string) {}

  /** A runtime with one page; `netns` runs it inside that network namespace, reaching the coordinator at `coordinatorUrl`. */
  async add(opts: { netns?: string; coordinatorUrl?: string } = {}): Promise<FleetMember> {
    const name = `rt${this.members.length + 1}`
    const log = createWriteStream(join(this.logDir, `${name}.log`))
    const args = ['--import', 'tsx', 'worker-runtime/src/launcher/cli.ts', '--coordinator', opts.coordinatorUrl ?? this.api.url, '--pages', '1', '--name', name]
    const [cmd, argv] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, process.execPath, ...args]] : [process.execPath, args]
    const child = spawn(cmd, argv, {
      cwd: REPO_ROOT, env: { ...process.env, CHROMIUM_PATH: findChromium(), WORKER_TOKEN: this.workerToken }, stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout?.pipe(log)
    child.stderr?.pipe(log)
    this.children.push(child)
    const api = this.api
    const workerIds = async () => {
      const list = (await (await fetch(`${api.url}/api/v1/workers`, { headers: api.headers })).json()) as WorkerList
      return new Set(list.workers.filter((w) => w.name?.startsWith(`${name}-`)).map((w) => w.id))
    }
    const browserPids = () => descendants(child.pid!)
    const member: FleetMember = {
      name,
      held: async () => {
        const ids = await workerIds()
        const page = (await (await fetch(`${api.url}/api/v1/jobs?status=running&limit=500`, { headers: api.headers })).json()) as JobPage
        return page.jobs.filter((j) => j.workerId && ids.has(j.workerId)).map((j) => j.id)
      },
      // kill -9 of Chromium (the browser and its renderers, as an OOM kill of the tree would): every page of
      // this runtime dies with it; the runtime launches a new browser.
      kill: () => signalAll(browserPids().filter(isBrowserMain).flatMap((p) => [p, ...descendants(p)]), 'SIGKILL'),
      freeze: () => signalAll(browserPids(), 'SIGSTOP'),
      thaw: () => signalAll(browserPids(), 'SIGCONT'),
      drain: async () => {
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
        child.kill('SIGTERM')
        await gone
      },
    }
    this.members.push(member)
    // Ready when its page has joined.
    for (let i = 0; i < 600 && (await workerIds().catch(() => new Set())).size === 0; i++) await new Promise((r) => setTimeout(r, 100))
    return member
  }

  async stop(): Promise<void> {
    for (const c of this.children) {
      const pids = descendants(c.pid!)
      signalAll(pids, 'SIGCONT')
      c.kill('SIGKILL')
      signalAll(pids, 'SIGKILL')
    }
  }
}
