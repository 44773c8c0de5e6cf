import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * A throwaway MariaDB server of our own (its own data folder and port), so a fault can stop and start
 * it without touching the machine's instance. Uses the mariadb-server package's binaries.
 */
export class PrivateMariaDb {
  private child: ChildProcess | undefined
  private readonly dir = mkdtempSync(join(tmpdir(), 'hivesight-mariadb-'))

  constructor(readonly port: number) {}

  get url(): string {
    return `mysql://root@127.0.0.1:${this.port}/hivesight`
  }

  async start(): Promise<void> {
    const data = join(this.dir, 'data')
    if (!existsSync(data)) {
      const init = spawnSync('mariadb-install-db', ['--no-defaults', '--user=root', `--datadir=${data}`, '--auth-root-authentication-method=normal', '--skip-test-db'], { encoding: 'utf8' })
      if (init.status !== 0) throw new Error(`mariadb-install-db failed: ${init.stderr}`)
    }
    this.child = spawn('/usr/sbin/mariadbd', ['--no-defaults', '--user=root', `--datadir=${data}`, `--socket=${join(this.dir, 'sock')}`, `--port=${this.port}`,
      '--bind-address=127.0.0.1', `--pid-file=${join(this.dir, 'pid')}`, `--log-error=${join(this.dir, 'err.log')}`, '--innodb-buffer-pool-size=128M'], { stdio: 'ignore' })
    for (let i = 0; i < 200; i++) {
      const ping = spawnSync('mariadb', ['--protocol=tcp', '-h', '127.0.0.1', '-P', String(this.port), '-uroot', '-e', 'CREATE DATABASE IF NOT EXISTS hivesight'], { encoding: 'utf8' })
      if (ping.status === 0) return
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error('the private MariaDB did not start')
  }

  async stop(): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null) return
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGTERM')
    await gone
  }

  async destroy(): Promise<void> {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }
}
