// `npm start`: install what is missing, build the worker page, start the coordinator and local headless
// workers, print where everything is; Ctrl-C stops it all.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { ROOT, buildWorkerPage, ensureChromium, ensureDependencies, say } from './bootstrap.mjs'

const started = Date.now()
const port = Number(process.env.PORT ?? 8080)
// WORKER_PAGES=0: the coordinator and dashboard only (workers join from elsewhere). Unset: the runtime sizes
// itself (WORKER_PROFILE=throughput|latency, WORKER_THREADS=N are passed on).
const pages = process.env.WORKER_PAGES === undefined ? undefined : Number(process.env.WORKER_PAGES)
if (pages !== undefined && (!Number.isInteger(pages) || pages < 0 || pages > 64)) {
  console.error(`WORKER_PAGES must be a whole number from 0 to 64 (got ${process.env.WORKER_PAGES})`)
  process.exit(2)
}

ensureDependencies()
const chromium = pages !== 0 ? ensureChromium() : undefined
buildWorkerPage()

const children = new Set()
/**
 * Starts a child. `essential`: its exit stops everything (the coordinator). Otherwise it is started again
 * with a capped back-off (the local worker runtime: queued jobs must never wait for a person).
 */
function launch(name, args, env = {}, essential = true, failures = 0) {
  const startedAt = Date.now()
  const child = spawn(process.execPath, args, {
    cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...env },
  })
  children.add(child)
  child.on('exit', (code, signal) => {
    children.delete(child)
    if (stopping) return
    if (essential) {
      say(`${name} exited (${signal ?? `code ${code}`}); stopping everything`)
      return stop(code || 1)
    }
    // Exit code 2 is a usage error (e.g. WORKER_THREADS=abc): starting it again would only repeat it.
    if (code === 2) return say(`${name} refused its options (see above); the coordinator stays up. Fix WORKER_PAGES, WORKER_THREADS or WORKER_PROFILE and start again`)
    const again = Date.now() - startedAt > 60_000 ? 0 : failures + 1
    const delay = Math.min(10_000, 500 * 2 ** again)
    say(`${name} exited (${signal ?? `code ${code}`}); starting it again in ${(delay / 1000).toFixed(1)} s`)
    setTimeout(() => {
      if (!stopping) launch(name, args, env, essential, again)
    }, delay)
  })
  return child
}

let stopping = false
function stop(code = 0) {
  if (stopping) return
  stopping = true
  for (const c of children) c.kill('SIGTERM')
  const force = setTimeout(() => {
    for (const c of children) c.kill('SIGKILL')
    process.exit(code)
  }, 15_000)
  force.unref()
  const check = setInterval(() => {
    if (children.size === 0) {
      clearInterval(check)
      process.exit(code)
    }
  }, 50)
}
process.on('SIGINT', () => stop(0))
process.on('SIGTERM', () => stop(0))

// The one-machine quick start runs without API keys unless told otherwise (AUTH_MODE=keys); the
// coordinator logs a warning, and the banner below says so.
const authMode = process.env.AUTH_MODE ?? 'open'
// With keys, the local runtime needs the worker secret and the dashboard's join links the join secret:
// make them for this run unless given.
const secret = (name) => process.env[name] ?? (authMode === 'keys' ? randomBytes(24).toString('base64url') : '')
const workerToken = secret('WORKER_TOKEN')
const joinToken = secret('JOIN_TOKEN')
launch('coordinator', ['--import', 'tsx', 'coordinator/src/server.ts'], {
  AUTH_MODE: authMode, WORKER_TOKEN: workerToken, JOIN_TOKEN: joinToken, ...(process.stdout.isTTY ? { LOG_FORMAT: process.env.LOG_FORMAT ?? 'pretty' } : {}),
})

const base = `http://localhost:${port}`
async function waitHealthy() {
  for (let i = 0; i < 300 && !stopping; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return true
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100))
  }
  return false
}

if (await waitHealthy()) {
  if (chromium) {
    const sizing = [
      ...(pages !== undefined ? ['--pages', String(pages)] : []),
      ...(process.env.WORKER_THREADS ? ['--threads', process.env.WORKER_THREADS] : []),
      ...(process.env.WORKER_PROFILE ? ['--profile', process.env.WORKER_PROFILE] : []),
    ]
    // The bundled runtime runs on plain node (no TypeScript loader: ~50 MiB less, measured).
    launch('worker runtime', ['worker-runtime/dist/runtime/cli.mjs', '--coordinator', `http://127.0.0.1:${port}`, ...sizing], { CHROMIUM_PATH: chromium, WORKER_TOKEN: workerToken }, false)
  }
  say(`up in ${((Date.now() - started) / 1000).toFixed(1)} s
  API          ${base}/api/v1/jobs   (curl -F image=@cat.jpg ${base}/api/v1/jobs)
  workers      ${base}/api/v1/workers${chromium ? ` (local headless pages starting${pages ? `: ${pages}` : ', sized to this machine'})` : ''}
  worker page  ${authMode === 'keys' ? `make a join link on the dashboard (${base}/, with an admin key: npm run keys -- create --name NAME --admin) to let a browser tab volunteer` : `${base}/worker   (open it in any browser tab to volunteer; its answers count once confirmed)`}
  health       ${base}/readyz   API docs ${base}/api/docs
  ${authMode === 'open' ? 'open mode: no API key needed. On a shared network use AUTH_MODE=keys npm start and npm run keys -- create --name NAME' : 'API keys required: npm run keys -- create --name NAME [--volunteers], then send Authorization: Bearer <key>'}
  Ctrl-C stops everything.`)
} else if (!stopping) {
  say(`the coordinator did not answer on ${base}/healthz; stopping`)
  stop(1)
}
