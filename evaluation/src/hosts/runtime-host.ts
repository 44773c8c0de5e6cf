import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from '@hivesight/coordinator'
import { findChromium } from '@hivesight/worker-runtime/chromium-path'
import type { NetHost } from './network.ts'
import { waitFor } from './sh.ts'
import { signalAndWait } from '../harness/child-exit.ts'

const CPU_CGROUPS = '/sys/fs/cgroup/cpu'
const CGROUP_PREFIX = 'hivesight-rig-'

/** Pure: cgroup v1 CFS quota for `cores` of CPU per 100 ms period. */
export function cfsQuotaUs(cores: number, periodUs = 100_000): number {
  if (!(cores > 0)) throw new Error(`a CPU limit must be above 0 cores (got ${cores})`)
  return Math.round(cores * periodUs)
}

/**
 * The real worker runtime (Chromium pages running the model) on a worker host of its own, joined to the
 * balancer, held to `cores` of CPU by a cgroup (cpu controller, CFS quota) so the VMs it stands for do not
 * take the cores the databases and coordinators need. Its holds are not recorded (only the simulated
 * workers' are); the database checks (one result per job, no result from a fenced lease) cover it.
 */
export class RuntimeHost {
  private child: ChildProcess | undefined
  private readyPages = 0
  private readonly cgroup: string

  constructor(readonly host: NetHost, private readonly url: string, private readonly logFile: string, private readonly opts: { pages: number; cores: number; token: string }) {
    this.cgroup = join(CPU_CGROUPS, `${CGROUP_PREFIX}${host.spec.name}`)
  }

  async start(): Promise<void> {
    const limited = existsSync(CPU_CGROUPS)
    if (limited) {
      mkdirSync(this.cgroup, { recursive: true })
      writeFileSync(join(this.cgroup, 'cpu.cfs_quota_us'), String(cfsQuotaUs(this.opts.cores)))
    }
    const runtime = [process.execPath, 'worker-runtime/dist/runtime/cli.mjs', '--coordinator', this.url, '--pages', String(this.opts.pages), '--name', `rt-${this.host.spec.name}`]
    // The shell joins the cgroup first, so Chromium and every process it starts are held to the quota.
    const join_ = limited ? `echo $$ > ${join(this.cgroup, 'cgroup.procs')}; ` : ''
    const child = spawn('sh', ['-c', `${join_}exec "$@"`, 'sh', ...this.host.exec(runtime)], {
      cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CHROMIUM_PATH: findChromium(), WORKER_TOKEN: this.opts.token },
    })
    this.child = child
    const log = createWriteStream(this.logFile, { flags: 'a' })
    child.stderr?.pipe(log)
    child.stdout?.on('data', (b: Buffer) => {
      log.write(b)
      this.readyPages += (b.toString().match(/page \d+ is ready/g) ?? []).length
    })
    await waitFor(`Chromium worker pages on ${this.host.spec.name} ready`, 90_000, () => {
      if (child.exitCode !== null) throw new Error(`the runtime on ${this.host.spec.name} exited with ${child.exitCode}; see ${this.logFile}`)
      return this.readyPages >= this.opts.pages
    }, 200)
  }

  /** SIGTERM: the runtime drains (finishes or hands back its jobs) and exits; whatever is left in its cgroup is killed. */
  async stop(graceMs = 25_000): Promise<void> {
    await signalAndWait(this.child, 'SIGTERM', graceMs)
    killCgroup(this.cgroup)
  }
}

/** kill -9 every process in the cgroup (a runtime killed before Chromium leaves it behind), then removes it. */
function killCgroup(dir: string): void {
  const procs = join(dir, 'cgroup.procs')
  for (let i = 0; i < 20 && existsSync(procs); i++) {
    const pids = readFileSync(procs, 'utf8').split('\n').filter(Boolean).map(Number)
    if (pids.length === 0) break
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch { /* already gone */ }
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50)
  }
  removeCgroup(dir)
}

function removeCgroup(dir: string): void {
  try {
    if (existsSync(dir)) rmdirSync(dir)
  } catch { /* still has a process: the leak check reports it */ }
}

/** The rig's CPU cgroups that exist (the leak check); `remove` tries to delete them first. */
export function rigCgroups(remove = false): string[] {
  if (!existsSync(CPU_CGROUPS)) return []
  const mine = () => readdirSync(CPU_CGROUPS).filter((n) => n.startsWith(CGROUP_PREFIX)).map((n) => join(CPU_CGROUPS, n))
  if (remove) for (const d of mine()) killCgroup(d)
  return mine()
}
