import type { ChildProcess } from 'node:child_process'
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { WorkerList, WorkerView } from '@hivesight/protocol'
import { findChromium } from '@hivesight/worker-runtime/chromium-path'
import { CoordinatorProcess } from '../harness/coordinator-process.ts'
import { freePort } from '../harness/free-port.ts'
import { exited, onExit, pin, spawnScript, stopTree } from './children.ts'

/** Runtime flags passed through only when given: otherwise the runtime sizes itself, as under `npm start`. */
export interface RuntimeFlags { pages?: number; threads?: number; profile?: string }

/** The runtime exited before its pages joined, e.g. because it does not know a flag yet. */
export class RuntimeExited extends Error {
  constructor(readonly log: string) {
    super(`the worker runtime exited before its pages joined; its last output:\n${log}`)
  }
}

export const describeFlags = (f: RuntimeFlags): string =>
  [f.pages && `--pages ${f.pages}`, f.threads && `--threads ${f.threads}`, f.profile && `--profile ${f.profile}`].filter(Boolean).join(' ') || 'default sizing'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const tailOf = (text: string, lines = 25) => text.trimEnd().split('\n').slice(-lines).join('\n')

/**
 * The system as `npm start` runs it: the real coordinator (embedded SQLite in a temp DATA_DIR, open mode)
 * and the real worker runtime CLI with headless Chromium, each a child process of the bench.
 */
export class EndToEndSystem {
  private runtime: { child: ChildProcess; output: () => string } | undefined
  private readonly offExit: () => void

  private constructor(private readonly coordinator: CoordinatorProcess, private readonly dataDir: string) {
    this.offExit = onExit(() => {
      void coordinator.kill('SIGKILL')
      rmSync(dataDir, { recursive: true, force: true })
    })
  }

  get url(): string {
    return this.coordinator.url
  }

  get port(): number {
    return Number(new URL(this.coordinator.url).port)
  }

  /** `env`: extra coordinator settings, e.g. HOST=0.0.0.0 for a client in another network namespace. */
  static async start(env: Record<string, string> = {}): Promise<EndToEndSystem> {
    const dataDir = mkdtempSync(join(tmpdir(), 'hivesight-bench-'))
    const system = new EndToEndSystem(new CoordinatorProcess({ port: await freePort(), dataDir, env }), dataDir)
    try {
      await system.coordinator.start()
    } catch (err) {
      const log = system.coordinatorLog()
      await system.stop()
      throw new Error(`${err instanceof Error ? err.message : String(err)}${log ? `\ncoordinator log:\n${log}` : ''}`)
    }
    return system
  }

  get coordinatorPid(): number | undefined {
    return this.coordinator.pid
  }

  /** Pins the coordinator (all its threads) to `cpus`. */
  pinCoordinator(cpus: string): void {
    if (this.coordinator.pid === undefined) throw new Error('the coordinator is not running')
    pin(this.coordinator.pid, cpus)
  }

  /** Starts `node worker-runtime/dist/runtime/cli.mjs --coordinator URL [flags]`, the bundle npm start runs. */
  startRuntime(flags: RuntimeFlags, cpus?: string): void {
    if (this.runtime) throw new Error('a worker runtime is already running')
    const args = ['--coordinator', this.url]
    if (flags.pages !== undefined) args.push('--pages', String(flags.pages))
    if (flags.threads !== undefined) args.push('--threads', String(flags.threads))
    if (flags.profile !== undefined) args.push('--profile', flags.profile)
    const child = spawnScript('worker-runtime/dist/runtime/cli.mjs', args, { env: { ...process.env, CHROMIUM_PATH: findChromium() }, plainNode: true, cpus })
    const log = createWriteStream(join(this.dataDir, 'worker-runtime.log'))
    let output = ''
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on('data', (chunk: Buffer) => {
        log.write(chunk)
        output = (output + chunk.toString()).slice(-8_000)
      })
    }
    child.once('exit', () => log.end())
    this.runtime = { child, output: () => output }
  }

  async workers(): Promise<WorkerView[]> {
    const res = await fetch(`${this.url}/api/v1/workers`)
    if (!res.ok) throw new Error(`GET /api/v1/workers answered ${res.status}`)
    return ((await res.json()) as WorkerList).workers
  }

  /**
   * Resolves with the workers once `expected` have joined. Unknown `expected` (default sizing): the count
   * the runtime announces in its log, else the count once it has not changed for 5 s.
   */
  async waitWorkers(expected: number | undefined, timeoutMs: number): Promise<WorkerView[]> {
    const runtime = this.runtime
    if (!runtime) throw new Error('no worker runtime started')
    const end = Date.now() + timeoutMs
    let last = -1
    let stableSince = Date.now()
    for (;;) {
      if (exited(runtime.child)) throw new RuntimeExited(tailOf(runtime.output()))
      const list = await this.workers()
      // What the runtime says it starts: "starting 2 page(s)", or "2 pages × 1 thread (…)".
      const said = /starting (\d+) page|(\d+) pages? ×/.exec(runtime.output())
      const announced = Number(said?.[1] ?? said?.[2] ?? NaN)
      const want = expected ?? (Number.isInteger(announced) ? announced : undefined)
      if (list.length !== last) {
        last = list.length
        stableSince = Date.now()
      }
      if (want !== undefined ? list.length >= want : list.length > 0 && Date.now() - stableSince >= 5_000) return list
      if (Date.now() > end) {
        throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${want ?? 'the'} worker page(s) to join (${list.length} joined)`)
      }
      await sleep(250)
    }
  }

  /** SIGTERM (the runtime drains, ≤ 20 s), then its whole tree is killed; waits until its workers are gone. */
  async stopRuntime(): Promise<void> {
    const runtime = this.runtime
    if (!runtime) return
    this.runtime = undefined
    await stopTree(runtime.child, 'SIGTERM', 25_000)
    if (!this.coordinator.alive) return
    const end = Date.now() + 30_000
    while ((await this.workers().catch(() => [])).length > 0) {
      if (Date.now() > end) throw new Error('timed out after 30 s waiting for the stopped runtime\'s workers to leave the coordinator')
      await sleep(200)
    }
  }

  /** Recent runtime and coordinator output, for a failure's message. */
  diagnostics(): string {
    return [`worker runtime:\n${tailOf(this.runtime?.output() ?? '(not running)', 12)}`, `coordinator:\n${this.coordinatorLog()}`].join('\n')
  }

  private coordinatorLog(): string {
    try {
      return tailOf(readFileSync(join(this.dataDir, 'coordinator.log'), 'utf8'), 8)
    } catch {
      return ''
    }
  }

  /** Stops everything and removes the temp folder; safe to call twice. */
  async stop(): Promise<void> {
    try {
      await this.stopRuntime().catch(() => undefined)
      // SIGTERM lets it close its database; a coordinator that hangs is killed after 10 s.
      const gone = this.coordinator.kill('SIGTERM')
      if (!(await Promise.race([gone.then(() => true), sleep(10_000).then(() => false)]))) await this.coordinator.kill('SIGKILL')
    } finally {
      rmSync(this.dataDir, { recursive: true, force: true })
      this.offExit()
    }
  }
}
