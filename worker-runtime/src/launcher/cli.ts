import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { parseArgs } from 'node:util'
import { findChromium } from './chromium-path.ts'
import { thisMachine } from './machine.ts'
import { PagePool } from './page-pool.ts'
import { sizeRuntime, type Profile } from './runtime-sizing.ts'

// Issue #4: a SIGTERM'd runtime finishes or hands back its in-flight jobs within 20 s.
const DRAIN_GRACE_MS = 18_000

const USAGE = `usage: npm run worker -- [--coordinator http://HOST:8080] [--profile throughput|latency] [--pages N] [--threads N] [--models N] [--heap-mb MiB] [--name NAME]

Starts headless Chromium with worker pages that join the coordinator, and keeps it running: a crashed page
or browser is started again, forever, with a capped back-off.
  --profile throughput  one single-thread page per core (default; fewer if memory is short)
  --profile latency     one page with a wasm thread per core: a lone image is answered soonest
  --pages, --threads    explicit sizes; they win over the profile
  --models N            model versions each page keeps warm (default 4; the least recently used is let go);
                        pages are sized for one model unless this says how many (+55 MiB each)
  --heap-mb MiB         a page's inference worker is replaced when its wasm heap stays above this after
                        a model was let go (default 256)
Credentials come from the environment or a file, never the command line (where ps shows them):
  WORKER_CREDENTIAL       this VM's own credential (npm run keys -- worker create --name VM on the coordinator)
  WORKER_CREDENTIAL_FILE  a file holding it (e.g. a mounted secret)
  WORKER_TOKEN            the coordinator's master secret (only for a runtime on the coordinator's own machine)
Chromium: CHROMIUM_PATH, else /usr/bin/chromium and other usual places.`

function wholeNumber(name: string, value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > max) {
    console.error(`--${name} must be a whole number from 1 to ${max} (got ${value})\n\n${USAGE}`)
    process.exit(2)
  }
  return n
}

/** WORKER_CREDENTIAL, or the file WORKER_CREDENTIAL_FILE names (trimmed); exits 2 when the file cannot be read. */
function credentialFromEnv(): string | undefined {
  if (process.env.WORKER_CREDENTIAL) return process.env.WORKER_CREDENTIAL.trim()
  const file = process.env.WORKER_CREDENTIAL_FILE
  if (!file) return undefined
  try {
    return readFileSync(file, 'utf8').trim()
  } catch (err) {
    console.error(`WORKER_CREDENTIAL_FILE: cannot read ${file} (${err instanceof Error ? err.message : String(err)})`)
    process.exit(2)
  }
}

function main(): void {
  const { values } = parseArgs({
    options: {
      coordinator: { type: 'string', default: process.env.COORDINATOR_URL ?? 'http://localhost:8080' },
      profile: { type: 'string', default: process.env.WORKER_PROFILE ?? 'throughput' },
      pages: { type: 'string' },
      threads: { type: 'string' },
      models: { type: 'string' },
      'heap-mb': { type: 'string' },
      name: { type: 'string', default: hostname() },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) return console.log(USAGE)
  if (values.profile !== 'throughput' && values.profile !== 'latency') {
    console.error(`--profile must be throughput or latency (got ${values.profile})\n\n${USAGE}`)
    process.exit(2)
  }
  let coordinatorUrl: string
  try {
    coordinatorUrl = new URL(values.coordinator).toString()
  } catch {
    console.error(`--coordinator must be a URL like http://HOST:8080 (got ${values.coordinator})`)
    process.exit(2)
  }
  let executablePath: string
  try {
    executablePath = findChromium()
  } catch (err) {
    console.error(`hivesight worker: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  }
  const log = (msg: string) => console.log(`[worker ${new Date().toISOString().slice(11, 19)}] ${msg}`)
  const machine = thisMachine()
  const models = wholeNumber('models', values.models, 16)
  const heapMb = wholeNumber('heap-mb', values['heap-mb'], 16_384)
  const sizing = sizeRuntime(machine, { profile: values.profile as Profile, pages: wholeNumber('pages', values.pages, 64), threads: wholeNumber('threads', values.threads, 16), models })
  const pool = new PagePool({ coordinatorUrl, pages: sizing.pages, threads: sizing.threads, models, heapMb, executablePath, name: values.name, log, token: process.env.WORKER_TOKEN, credential: credentialFromEnv() })
  log(`${sizing.reason} on ${machine.cores} core(s), ${Math.round(machine.availableBytes / 2 ** 20)} MiB available; ${executablePath} for ${coordinatorUrl}`)
  for (const w of sizing.warnings) log(`warning: ${w}`)
  // Never rejects: the pool retries on its own until it is stopped.
  void pool.start()
  let stoppingSince = 0
  const stop = (signal: string) => {
    if (stoppingSince) {
      // Ctrl-C reaches every process of the group and `npm start` also forwards it: ignore that echo.
      if (Date.now() - stoppingSince > 2_000) process.exit(1)
      return
    }
    stoppingSince = Date.now()
    log(`${signal}: draining (finishing or handing back held jobs, at most ${DRAIN_GRACE_MS / 1000} s)`)
    void pool.drain(DRAIN_GRACE_MS).then(() => process.exit(0))
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
}

main()
