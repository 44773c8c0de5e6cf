import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { GALERA_PROVIDER } from './galera.ts'

/** Pure: the Debian packages missing, from what is found on the machine. */
export function missingPackages(found: Record<string, boolean>): string[] {
  const wanted: [string, string][] = [['galera-4', 'galera'], ['mariadb-server', 'mariadbd'], ['mariadb-client', 'mariadb'], ['haproxy', 'haproxy'], ['nftables', 'nft'], ['iproute2', 'ip'], ['rsync', 'rsync'], ['faketime', 'faketime']]
  return wanted.filter(([, k]) => !found[k]).map(([pkg]) => pkg)
}

const has = (cmd: string, args: string[] = ['--version']) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0

/**
 * The rig needs root (namespaces, bridge, nftables) and Debian's galera-4, mariadb-server/-client,
 * haproxy, nftables, iproute2, rsync (Galera's SST) and faketime (clock-skew); missing ones are installed
 * with apt-get as `npm start` installs Chromium.
 */
export function ensureHostPackages(log: (m: string) => void): void {
  if (process.getuid?.() !== 0) throw new Error('eval:hosts needs root (network namespaces, a bridge, nftables)')
  const found = {
    galera: existsSync(GALERA_PROVIDER), mariadbd: existsSync('/usr/sbin/mariadbd'), mariadb: has('mariadb'), haproxy: has('haproxy', ['-v']),
    nft: has('nft'), ip: has('ip', ['-V']), rsync: has('rsync'), faketime: has('faketime', ['--help']),
  }
  const missing = missingPackages(found)
  if (missing.length === 0) return
  if (!existsSync('/usr/bin/apt-get')) throw new Error(`eval:hosts needs ${missing.join(', ')} (no apt-get here)`)
  log(`installing ${missing.join(', ')} from Debian (apt-get install -y)…`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env })
  const r = spawnSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env })
  if (r.status !== 0) throw new Error(`apt-get install ${missing.join(' ')} failed`)
}
