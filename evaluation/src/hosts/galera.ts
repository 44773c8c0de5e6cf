import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createConnection } from 'mysql2/promise'
import type { NetHost } from './network.ts'
import { waitFor } from './sh.ts'
import { signalAndWait } from '../harness/child-exit.ts'

export const GALERA_PROVIDER = '/usr/lib/galera/libgalera_smm.so'
export const DB_USER = 'hivesight'
export const DB_NAME = 'hivesight'

export interface GaleraStatus {
  ready: boolean
  clusterSize: number
  state: string
  certFailures: number
  bfAborts: number
  replicated: number
  flowControlPausedNs: number
}

/** Pure: the server's recovered position from `mariadbd --wsrep-recover`'s log ("Recovered position: uuid:seqno"). */
export function recoveredPosition(log: string): string | null {
  const all = [...log.matchAll(/WSREP: Recovered position:\s+([0-9a-f-]{36}:-?\d+)/g)]
  const last = all.at(-1)?.[1]
  return last && !last.endsWith(':-1') ? last : null
}

/**
 * One MariaDB Galera node: mariadbd in its own namespace and datadir. The settings are the ones Hivesight
 * needs (docs/galera.md): ROW binlog, interleaved auto-increment locks, a flush per commit, causal reads.
 */
export class GaleraNode {
  private child: ChildProcess | undefined
  readonly data: string
  /** Status counters reset when the server restarts: what earlier lives of this node counted. */
  private carried = { certFailures: 0, bfAborts: 0 }
  private last = { certFailures: 0, bfAborts: 0 }

  /** `peers` empty: a plain MariaDB server (no wsrep), the yardstick the cluster is compared with. */
  constructor(readonly name: string, readonly host: NetHost, private readonly dir: string, private readonly peers: string[], private readonly syncWait: number) {
    this.data = join(dir, 'data')
  }

  get ip(): string {
    return this.host.ip
  }

  get pid(): number | undefined {
    return this.child?.pid
  }

  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  get wsrep(): boolean {
    return this.peers.length > 0
  }

  private args(extra: string[]): string[] {
    const common = ['/usr/sbin/mariadbd', '--no-defaults', '--user=root', `--datadir=${this.data}`, `--socket=${join(this.dir, 'sock')}`, '--port=3306',
      `--bind-address=${this.ip}`, `--pid-file=${join(this.dir, 'pid')}`, '--innodb-buffer-pool-size=96M', '--max-connections=200']
    // The same storage settings without wsrep: what one plain server does with the same load.
    if (!this.wsrep) return [...common, '--binlog-format=ROW', '--binlog-row-image=NOBLOB', '--default-storage-engine=InnoDB', '--innodb-autoinc-lock-mode=2', '--innodb-flush-log-at-trx-commit=1', '--max-allowed-packet=64M', '--skip-name-resolve', ...extra]
    return [...common, '--wsrep-on=ON', `--wsrep-provider=${GALERA_PROVIDER}`, `--wsrep-cluster-address=gcomm://${this.peers.join(',')}`,
      '--wsrep-cluster-name=hivesight', `--wsrep-node-address=${this.ip}`, `--wsrep-node-name=${this.name}`, '--wsrep-sst-method=rsync',
      `--wsrep-provider-options=gcache.size=64M;gmcast.listen_addr=tcp://${this.ip}:4567;ist.recv_addr=${this.ip}:4568;evs.suspect_timeout=PT3S;evs.inactive_timeout=PT6S`,
      '--binlog-format=ROW', '--binlog-row-image=NOBLOB', '--default-storage-engine=InnoDB', '--innodb-autoinc-lock-mode=2', '--innodb-flush-log-at-trx-commit=1',
      `--wsrep-sync-wait=${this.syncWait}`, '--wsrep-slave-threads=2', '--max-allowed-packet=64M', '--skip-name-resolve', ...extra]
  }

  /** First start of the cluster's first node (`bootstrap`) or a (re)join of the others. */
  async start(opts: { bootstrap?: boolean } = {}): Promise<void> {
    if (!existsSync(this.data)) {
      mkdirSync(this.dir, { recursive: true, mode: 0o755 })
      const init = spawnSync('mariadb-install-db', ['--no-defaults', '--user=root', `--datadir=${this.data}`, '--auth-root-authentication-method=normal', '--skip-test-db'], { encoding: 'utf8' })
      if (init.status !== 0) throw new Error(`mariadb-install-db failed: ${init.stderr}`)
    }
    spawnSync('chmod', ['-R', 'a+rwX', this.data])
    const extra: string[] = []
    if (opts.bootstrap && this.wsrep) extra.push('--wsrep-new-cluster')
    else if (this.wsrep) {
      // After kill -9 the state file says seqno -1: recover the position from InnoDB (as galera_recovery
      // does) so the node asks its donor for the missing write sets only (IST), not a whole copy (SST).
      const recoverLog = join(this.dir, 'recover.log')
      const [cmd, ...args] = this.host.exec(this.args(['--wsrep-recover', `--log-error=${recoverLog}`]))
      spawnSync(cmd!, args, { stdio: 'ignore', timeout: 60_000 })
      const pos = existsSync(recoverLog) ? recoveredPosition(readFileSync(recoverLog, 'utf8')) : null
      if (pos) extra.push(`--wsrep-start-position=${pos}`)
    }
    const argv = this.host.exec(this.args([`--log-error=${join(this.dir, 'err.log')}`, ...extra]))
    // UMASK/UMASK_DIR (mariadbd's file modes) and umask 0: everything the server creates is writable by
    // the nobody that Debian's rsync SST daemon runs as when a later SST has to overwrite it.
    this.child = spawn('sh', ['-c', 'umask 0; exec "$@"', 'sh', ...argv], { stdio: 'ignore', env: { ...process.env, UMASK: '0666', UMASK_DIR: '0777' } })
    const child = this.child
    await waitFor(`${this.name} synced`, 180_000, async () => {
      if (child.exitCode !== null) throw new Error(`${this.name} exited with ${child.exitCode}; see ${join(this.dir, 'err.log')}`)
      const s = await this.status('root')
      return s.ready && s.state === 'Synced'
    }, 300).catch((err: Error) => {
      if (child.exitCode !== null) throw new Error(`${this.name} exited with ${child.exitCode}; see ${join(this.dir, 'err.log')}`)
      throw err
    })
  }

  /**
   * A joiner seeded with a copy of the (cleanly stopped) first node's datadir: same cluster state, so it
   * joins without a full state transfer (Debian's rsync SST runs its daemon as nobody, which cannot write
   * a root-owned datadir; a copy also saves the time).
   */
  seedFrom(first: GaleraNode): void {
    mkdirSync(this.dir, { recursive: true })
    cpSync(first.data, this.data, { recursive: true })
    const state = join(this.data, 'grastate.dat')
    writeFileSync(state, readFileSync(state, 'utf8').replace(/safe_to_bootstrap:\s*1/, 'safe_to_bootstrap: 0'))
  }

  /** The first node, once bootstrapped: the application's user and database (replicated to the others). */
  async createSchema(): Promise<void> {
    const sock = join(this.dir, 'sock')
    const r = spawnSync('mariadb', ['--no-defaults', `--socket=${sock}`, '-uroot', '-e',
      `CREATE DATABASE IF NOT EXISTS ${DB_NAME}; CREATE USER IF NOT EXISTS '${DB_USER}'@'%'; GRANT ALL ON *.* TO '${DB_USER}'@'%'; CREATE USER IF NOT EXISTS 'haproxy'@'%';`], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`creating the schema on ${this.name}: ${r.stderr}`)
  }

  /** Over the socket as root before the user exists; over the bridge afterwards. */
  async status(as: 'root' | 'app' = 'app'): Promise<GaleraStatus> {
    const conn = as === 'root'
      ? await createConnection({ socketPath: join(this.dir, 'sock'), user: 'root', connectTimeout: 2_000 })
      : await createConnection({ host: this.ip, port: 3306, user: DB_USER, connectTimeout: 2_000 })
    try {
      if (!this.wsrep) {
        await conn.query('SELECT 1')
        return { ready: true, clusterSize: 1, state: 'Synced', certFailures: 0, bfAborts: 0, replicated: 0, flowControlPausedNs: 0 }
      }
      const [rows] = await conn.query("SHOW GLOBAL STATUS LIKE 'wsrep_%'")
      const m = new Map((rows as { Variable_name: string; Value: string }[]).map((r) => [r.Variable_name.toLowerCase(), r.Value]))
      const num = (k: string) => Number(m.get(k) ?? 0)
      const s: GaleraStatus = {
        ready: m.get('wsrep_ready') === 'ON', clusterSize: num('wsrep_cluster_size'), state: m.get('wsrep_local_state_comment') ?? '?',
        certFailures: num('wsrep_local_cert_failures'), bfAborts: num('wsrep_local_bf_aborts'), replicated: num('wsrep_replicated'),
        flowControlPausedNs: num('wsrep_flow_control_paused_ns'),
      }
      this.last = { certFailures: s.certFailures, bfAborts: s.bfAborts }
      return s
    } finally {
      await conn.end().catch(() => undefined)
    }
  }

  /**
   * Makes this node's component the primary one (`pc.bootstrap=YES`): what an operator does when the nodes
   * of a cluster that lost its quorum are back but it does not form a primary component on its own.
   */
  async bootstrapPrimary(): Promise<void> {
    const conn = await createConnection({ socketPath: join(this.dir, 'sock'), user: 'root', connectTimeout: 2_000 })
    try {
      await conn.query("SET GLOBAL wsrep_provider_options='pc.bootstrap=YES'")
    } finally {
      await conn.end().catch(() => undefined)
    }
  }

  /** Certification failures and brute-force aborts over every life of this node (sampled; see `status`). */
  get conflicts(): { certFailures: number; bfAborts: number } {
    return { certFailures: this.carried.certFailures + this.last.certFailures, bfAborts: this.carried.bfAborts + this.last.bfAborts }
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    await signalAndWait(child, signal, 60_000)
    this.carried = { certFailures: this.carried.certFailures + this.last.certFailures, bfAborts: this.carried.bfAborts + this.last.bfAborts }
    this.last = { certFailures: 0, bfAborts: 0 }
  }

  /** How this node last joined: 'IST', 'SST' or null (from its error log). */
  lastJoin(): string | null {
    const log = existsSync(join(this.dir, 'err.log')) ? readFileSync(join(this.dir, 'err.log'), 'utf8') : ''
    const ist = log.lastIndexOf('IST received')
    const sst = Math.max(log.lastIndexOf('SST received'), log.lastIndexOf('SST succeeded'))
    if (ist < 0 && sst < 0) return null
    return ist > sst ? 'IST' : 'SST'
  }
}
