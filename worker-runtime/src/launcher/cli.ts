import { availableParallelism, hostname } from 'node:os'
import { parseArgs } from 'node:util'
import { findChromium } from './chromium-path.ts'
import { PagePool } from './page-pool.ts'

// Issue #4: a SIGTERM'd runtime finishes or hands back its in-flight jobs within 20 s.
const DRAIN_GRACE_MS = 18_000

const USAGE = `usage: npm run worker -- [--coordinator http://HOST:8080] [--pages N] [--name NAME] [--token WORKER_TOKEN]

Starts headless Chromium with N worker pages (default: one per CPU core) that join the coordinator.
Chromium: CHROMIUM_PATH, else /usr/bin/chromium and other usual places.`

function main(): void {
  const { values } = parseArgs({
    options: {
      coordinator: { type: 'string', default: process.env.COORDINATOR_URL ?? 'http://localhost:8080' },
      pages: { type: 'string', default: String(availableParallelism()) },
      name: { type: 'string', default: hostname() },
      token: { type: 'string', default: process.env.WORKER_TOKEN },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    console.log(USAGE)
    return
  }
  const pages = Number(values.pages)
  if (!Number.isInteger(pages) || pages < 1 || pages > 64) {
    console.error(`--pages must be an integer from 1 to 64 (got ${values.pages})\n${USAGE}`)
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
  const pool = new PagePool({ coordinatorUrl, pages, executablePath, name: values.name, log, token: values.token })
  log(`starting ${pages} page(s) in ${executablePath} for ${coordinatorUrl}`)
  pool.start().catch((err) => {
    log(`could not start Chromium: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  })
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
