import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { REPO_ROOT } from '@hivesight/coordinator'
import { descendants, signalAll } from '../faults/process-tree.ts'

// Every child the bench starts is registered here, so that neither an error nor Ctrl-C leaves orphans
// (a worker runtime's Chromium is a grandchild: it is found through /proc before anything is killed).
const cleanups = new Set<() => void>()
let hooked = false

function hook(): void {
  if (hooked) return
  hooked = true
  process.on('exit', () => {
    for (const c of [...cleanups]) c()
  })
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping every child of the bench`)
      process.exit(130)
    })
  }
}

/** Runs `cleanup` (synchronous, must not throw) when this process exits, unless unregistered first. */
export function onExit(cleanup: () => void): () => void {
  hook()
  cleanups.add(cleanup)
  return () => cleanups.delete(cleanup)
}

/** SIGKILL to `child` and every process below it (taken from /proc before the child dies). */
export function killTree(child: ChildProcess): void {
  if (child.pid === undefined) return
  const below = descendants(child.pid)
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  signalAll(below, 'SIGKILL')
}

export const exited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null

/** Resolves when `child` has exited, or after `ms` (false then). */
export function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}

/** `signal` first (a runtime drains on SIGTERM), then after `graceMs` the whole tree is killed. */
export async function stopTree(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.pid === undefined) return
  const below = descendants(child.pid)
  if (!exited(child)) {
    child.kill(signal)
    await waitExit(child, graceMs)
  }
  killTree(child)
  signalAll(below, 'SIGKILL')
}

/** `node [--import tsx] <script> …args` from the repository root, killed with its tree if the bench exits. */
export function spawnScript(script: string, args: string[], opts: { env?: NodeJS.ProcessEnv; stderr?: 'inherit' | 'pipe'; stdin?: 'pipe' | 'ignore'; plainNode?: boolean; cpus?: string } = {}): ChildProcess {
  // plainNode: a bundled .mjs (the worker runtime, as npm start runs it) needs no TypeScript loader.
  const node = [process.execPath, ...(opts.plainNode ? [] : ['--import', 'tsx']), script, ...args]
  // cpus: pinned with taskset (its children, e.g. Chromium, inherit the affinity).
  const [command, ...argv] = opts.cpus ? ['taskset', '-c', opts.cpus, ...node] : node
  const child = spawn(command!, argv, {
    cwd: REPO_ROOT,
    env: opts.env ?? process.env,
    stdio: [opts.stdin ?? 'ignore', 'pipe', opts.stderr ?? 'pipe'],
  })
  const off = onExit(() => killTree(child))
  child.once('exit', off)
  return child
}

/** The last `max` characters a stream wrote, for error messages. */
export function tail(stream: NodeJS.ReadableStream | null, max = 4_000): () => string {
  let text = ''
  stream?.on('data', (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-max)
  })
  return () => text
}

/**
 * JSON lines a child prints on stdout (one object per line; other lines are ignored). `next(type, ms)`
 * resolves with the next message of that type, and rejects with `what` and the child's last output if it
 * exits first or `ms` passes.
 */
export class JsonLines {
  private readonly messages: Record<string, unknown>[] = []
  private readonly waiters = new Set<() => void>()
  private readonly errTail: () => string

  constructor(private readonly child: ChildProcess, private readonly what: string) {
    this.errTail = tail(child.stderr)
    let buffered = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) {
        if (!line.startsWith('{')) continue
        try {
          this.messages.push(JSON.parse(line) as Record<string, unknown>)
        } catch { /* a log line that happens to start with a brace */ }
      }
      this.wake()
    })
    child.once('exit', () => this.wake())
  }

  private wake(): void {
    for (const w of [...this.waiters]) w()
  }

  /** The newest message of `type`, left in place (e.g. progress counts). */
  latest<T>(type: string): T | undefined {
    return this.messages.findLast((m) => m.type === type) as T | undefined
  }

  async next<T>(type: string, ms: number): Promise<T> {
    const end = Date.now() + ms
    for (;;) {
      const i = this.messages.findIndex((m) => m.type === type)
      if (i >= 0) return this.messages.splice(i, 1)[0] as T
      const error = this.messages.find((m) => m.type === 'error')
      if (error) throw new Error(`${this.what} failed: ${String(error.message)}`)
      if (exited(this.child)) throw new Error(`${this.what} exited (${this.child.exitCode ?? this.child.signalCode}) before reporting "${type}"${this.errTail() ? `; its last output:\n${this.errTail()}` : ''}`)
      const left = end - Date.now()
      if (left <= 0) throw new Error(`timed out after ${(ms / 1000).toFixed(0)} s waiting for ${this.what} to report "${type}"`)
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer)
          this.waiters.delete(done)
          resolve()
        }
        const timer = setTimeout(done, left)
        this.waiters.add(done)
      })
    }
  }
}

/** Pins a running process and all its threads to `cpus` (Linux taskset). */
export function pin(pid: number, cpus: string): void {
  const r = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' })
  if (r.status !== 0) throw new Error(`taskset could not pin process ${pid} to CPU ${cpus}`)
}
