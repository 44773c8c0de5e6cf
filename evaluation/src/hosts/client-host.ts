import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { REPO_ROOT } from '@hivesight/coordinator'
import type { NetHost } from './network.ts'
import { waitFor } from './sh.ts'
import { signalAndWait } from '../harness/child-exit.ts'

type ClientLine = { ready: true } | { ack: string; ids: string[]; at: number } | { saw: string; why?: string } | { done: number }

export interface ClientEvents {
  /** A 202 for `key`, at `at` on this process's performance.now() timeline. */
  ack(key: string, ids: string[], at: number): void
  saw(answer: string, why?: string): void
}

/**
 * Upload clients on a host of their own (a namespace on the bridge), run as a child process
 * (client-main.ts) that reports every answer; their requests reach HAProxy over the rig's links.
 */
export class ClientHost {
  private child: ChildProcess | undefined
  private ready = false
  private doneCount: number | undefined
  private exited: Promise<void> = Promise.resolve()

  constructor(readonly host: NetHost, private readonly url: string, private readonly on: ClientEvents) {}

  async start(opts: { imagesPerRequest: number; concurrency: number; requests: number }): Promise<void> {
    const argv = this.host.exec([process.execPath, '--import', 'tsx', 'evaluation/src/hosts/client-main.ts', this.url, String(opts.imagesPerRequest), String(opts.concurrency), Number.isFinite(opts.requests) ? String(opts.requests) : 'inf'])
    const child = spawn(argv[0]!, argv.slice(1), { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'inherit'] })
    this.child = child
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = JSON.parse(line) as ClientLine
      if ('ready' in m) this.ready = true
      else if ('ack' in m) this.on.ack(m.ack, m.ids, m.at - performance.timeOrigin)
      else if ('saw' in m) this.on.saw(m.saw, m.why)
      else this.doneCount = m.done
    })
    await waitFor(`clients on ${this.host.spec.name} started`, 30_000, () => {
      if (child.exitCode !== null) throw new Error(`the client host exited with ${child.exitCode}`)
      return this.ready
    }, 100)
  }

  /** Ends the load: no new keys; the ones in flight are retried until acknowledged. */
  stop(): void {
    this.child?.stdin?.end('stop\n')
  }

  /** Until every key it started was acknowledged; the number of keys. */
  async done(): Promise<number> {
    await this.exited
    if (this.doneCount === undefined) throw new Error(`the clients on ${this.host.spec.name} exited with ${this.child?.exitCode} before finishing`)
    return this.doneCount
  }

  async kill(): Promise<void> {
    await signalAndWait(this.child, 'SIGKILL')
  }
}
