import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import type { WorkerList } from '@hivesight/protocol'
import { CoordinatorProcess } from '../src/harness/coordinator-process.ts'
import { freePort } from '../src/harness/free-port.ts'
import { startHeadlessWorkers, until } from '../src/harness/local-system.ts'

// The page's own watchdog: a coordinator that falls silent (here SIGSTOPped, as a partition would look,
// its TCP connections still open) is left after 3 missed heartbeats, and the page connects again by itself
// once it answers. Without the watchdog the page would sit on the old socket: same worker id afterwards.
test('a worker page leaves a coordinator that fell silent and reconnects by itself', { timeout: 120_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hivesight-silence-'))
  const coordinator = new CoordinatorProcess({ port: await freePort(), dataDir, env: { PING_INTERVAL_MS: '1000' } })
  await coordinator.start()
  const pool = await startHeadlessWorkers(coordinator.url, 1)
  t.after(async () => {
    await pool.stop()
    await coordinator.kill('SIGKILL')
    rmSync(dataDir, { recursive: true, force: true })
  })
  const workers = async () => ((await (await fetch(`${coordinator.url}/api/v1/workers`)).json()) as WorkerList).workers
  await until(async () => (await workers()).length === 1, 60_000, 'the page to connect')
  const [before] = await workers()

  // Silent for 6 heartbeats: the page's watchdog (3 heartbeats) must give up on this connection.
  process.kill(coordinator.pid!, 'SIGSTOP')
  await new Promise((r) => setTimeout(r, 6_000))
  process.kill(coordinator.pid!, 'SIGCONT')

  await until(async () => (await workers()).some((w) => w.id !== before!.id), 30_000, 'the page to come back on a new connection')
  await until(async () => (await workers()).length === 1, 30_000, 'the old session to be gone')
})
