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

/** The worker page bundle and the dashboard the coordinator serves (`npm run build`). */
export function buildWorkerPage() {
  run('npm', ['run', '--silent', 'build'])
}
