// First-run chores shared by `npm start` and `npm run worker`. Plain Node, no dependencies: it runs
// before node_modules exists.
import { spawnSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

export function say(msg) {
  console.log(`\x1b[36mhivesight\x1b[0m ${msg}`)
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT, ...opts })
  if (r.status !== 0) throw new Error(`\`${cmd} ${args.join(' ')}\` failed (exit ${r.status ?? r.signal})`)
}

/** npm ci when node_modules is missing or older than package-lock.json. */
export function ensureDependencies() {
  const marker = join(ROOT, 'node_modules', '.package-lock.json')
  const lock = join(ROOT, 'package-lock.json')
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return
  say('installing npm packages (first run; better-sqlite3 may compile for about a minute)…')
  run('npm', ['ci', '--no-audit', '--no-fund'])
}

const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable', '/snap/bin/chromium']

/** Path of a Chromium, installing Debian's when we are root and have apt; null (with advice) otherwise. */
export function ensureChromium() {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH
  const found = CHROMIUM_CANDIDATES.find((p) => existsSync(p))
  if (found) return found
  const root = typeof process.getuid === 'function' && process.getuid() === 0
  if (root && existsSync('/usr/bin/apt-get')) {
    say('installing Chromium from Debian (apt-get install -y chromium)…')
    run('apt-get', ['update', '-qq'])
    run('apt-get', ['install', '-y', '-qq', 'chromium'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
    if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium'
  }
  say('no Chromium found, so no local headless workers. Install it (sudo apt-get install -y chromium) or set CHROMIUM_PATH;\n' +
    '          meanwhile any browser tab can work: open the worker page printed below.')
  return null
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0
const has = (cmd, args = ['--version']) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0
let aptUpdated = false
function aptInstall(pkgs) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  if (!aptUpdated) run('apt-get', ['update', '-qq'], { env })
  aptUpdated = true
  // apt's own progress is hundreds of lines: keep its errors, print one line when done.
  run('apt-get', ['install', '-y', '-qq', ...pkgs], { env, stdio: ['ignore', 'ignore', 'inherit'] })
  say(`installed ${pkgs.join(', ')}`)
}

/**
 * What `npm test` needs of the system, installed from Debian when we are root (as `npm start` installs
 * Chromium): Chromium (end-to-end pages), Firefox ESR (the volunteer test's second browser), nftables and
 * iproute2 (the loss and fault tests' namespaces), and a running MariaDB at 127.0.0.1:3306. Not root: says
 * what is missing and goes on, and the tests that need it say so when they fail.
 */
export function ensureTestSystem() {
  const wanted = [
    ['chromium', () => CHROMIUM_CANDIDATES.some((p) => existsSync(p)) || Boolean(process.env.CHROMIUM_PATH)],
    ['firefox-esr', () => has('firefox-esr', ['--version'])],
    ['nftables', () => has('nft')],
    ['iproute2', () => has('ip', ['-V'])],
    ['mariadb-server', () => existsSync('/usr/sbin/mariadbd')],
    ['mariadb-client', () => has('mariadb-admin')],
    // The hosts rig (evaluation/test/hosts.test.ts): installed here, before the test files run side by side
    // and two apt-gets would meet on the dpkg lock.
    ['galera-4', () => existsSync('/usr/lib/galera/libgalera_smm.so')],
    ['haproxy', () => has('haproxy', ['-v'])],
    ['rsync', () => has('rsync')],
    ['faketime', () => has('faketime', ['--help'])],
  ]
  const missing = wanted.filter(([, ok]) => !ok()).map(([pkg]) => pkg)
  if (missing.length > 0) {
    if (!isRoot() || !existsSync('/usr/bin/apt-get')) {
      say(`missing for the tests: ${missing.join(', ')} (as root: apt-get install -y ${missing.join(' ')}); the tests that need them will fail`)
    } else {
      say(`installing what the tests need from Debian (apt-get install -y ${missing.join(' ')})…`)
      aptInstall(missing)
    }
  }
  ensureMariaDb()
}

const mariaUp = () => has('mariadb-admin', ['--protocol=tcp', '-h', '127.0.0.1', '-uroot', 'ping'])

/** MariaDB at 127.0.0.1:3306 with database `test`, started (as root) when it is down. */
export function ensureMariaDb() {
  if (!mariaUp() && isRoot() && existsSync('/usr/sbin/mariadbd')) {
    say('starting MariaDB (the store tests run on it)…')
    spawnSync('mkdir', ['-p', '/run/mysqld'])
    spawnSync('chown', ['mysql:mysql', '/run/mysqld'])
    spawnSync('start-stop-daemon', ['--start', '--oknodo', '--background', '--exec', '/usr/sbin/mariadbd', '--', '--user=mysql'], { stdio: 'inherit' })
    for (let i = 0; i < 100 && !mariaUp(); i++) spawnSync('sleep', ['0.3'])
  }
  if (!mariaUp()) return say('MariaDB does not answer at 127.0.0.1:3306 (root, no password); the MariaDB tests will fail')
  spawnSync('mariadb', ['--protocol=tcp', '-h', '127.0.0.1', '-uroot', '-e', 'CREATE DATABASE IF NOT EXISTS test'], { stdio: 'inherit' })
}

/** The worker page bundle and the dashboard the coordinator serves (`npm run build`). */
export function buildWorkerPage() {
  run('npm', ['run', '--silent', 'build'])
}
