import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { REPO_ROOT } from '@hivesight/coordinator'
import type { Hold } from '../cluster/holds.ts'
import type { NetHost } from './network.ts'
import { waitFor } from './sh.ts'
import { signalAndWait } from '../harness/child-exit.ts'

/** A simulated worker's time per job: 10–50 ms, about a real page's MobileNet inference, so the Chromium runtimes (whose slots the dispatcher fills after emptier workers') get their share. */
export const simulatedInferenceMs = (): number => 10 + Math.random() * 40

/** Pure: a hold recorded in epoch ms by another process, on this process's performance.now() timeline. */
export function toLocalTimeline(h: Hold, timeOrigin: number): Hold {
  return { ...h, from: h.from - timeOrigin, to: h.to - timeOrigin }
}

/**
 * Simulated workers on a host of their own (a namespace), so a fault can cut them off from the balancer.
 * They run in a child process (worker-main.ts) that reports every hold; `holds` is on our timeline.
 */
export class WorkerHost {
  private child: ChildProcess | undefined
  private ready = false
  readonly holds: Hold[] = []

  constructor(readonly host: NetHost, private readonly url: string, private readonly count: number, private readonly slots: number) {}

  async start(): Promise<void> {
    const argv = this.host.exec([process.execPath, '--import', 'tsx', 'evaluation/src/hosts/worker-main.ts', this.url, String(this.count), String(this.slots), `${this.host.spec.name}-`])
    const child = spawn(argv[0]!, argv.slice(1), { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
    this.child = child
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = JSON.parse(line) as Hold | { ready: true }
      if ('ready' in m) this.ready = true
      else this.holds.push(toLocalTimeline(m, performance.timeOrigin))
    })
    await waitFor(`workers on ${this.host.spec.name} connected`, 30_000, () => {
      if (child.exitCode !== null) throw new Error(`the worker host exited with ${child.exitCode}`)
      return this.ready
    }, 100)
  }

  /** Stops its workers and waits for their last holds. */
  async stop(): Promise<void> {
    await signalAndWait(this.child, 'SIGTERM', 15_000)
  }
}
