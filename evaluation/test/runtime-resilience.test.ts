import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { REPO_ROOT } from '@hivesight/coordinator'
import type { WorkerList } from '@hivesight/protocol'
import { HivesightClient } from '../src/client/hivesight-client.ts'
import { readLabelledDataset, spreadSample } from '../src/dataset/labelled-dataset.ts'
import { descendants, isBrowserMain } from '../src/faults/process-tree.ts'
import { freePort } from '../src/harness/free-port.ts'
import { until } from '../src/harness/local-system.ts'

// The README's `npm start` as a real process tree (coordinator, worker runtime, Chromium), with one page of
// two wasm threads: Chromium is killed -9 while the runtime launches it and again while it serves, then the
// runtime itself; `npm start` must stay up through all of it and classify again each time.
const DATASET = process.env.DATASET_DIR ?? resolve(REPO_ROOT, '../shared/datasets/imagenet-val-dev')
let start: ChildProcess
let output = ''
let base: string
let dataDir: string
const images = spreadSample(readLabelledDataset(DATASET), 3)

before(async () => {
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  dataDir = mkdtempSync(join(tmpdir(), 'hivesight-start-'))
  start = spawn(process.execPath, ['tools/start.mjs'], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, AUTH_MODE: 'open', WORKER_PAGES: '1', WORKER_THREADS: '2', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  start.stdout?.on('data', (d: Buffer) => (output += d.toString()))
  start.stderr?.on('data', (d: Buffer) => (output += d.toString()))
})

after(async () => {
  if (start.exitCode === null) {
    start.kill('SIGTERM')
    await new Promise((r) => start.once('exit', r))
  }
  rmSync(dataDir, { recursive: true, force: true })
})

const alive = () => start.exitCode === null && start.signalCode === null
const browsers = () => descendants(start.pid!).filter(isBrowserMain)
const workers = async () => ((await (await fetch(`${base}/api/v1/workers`)).json()) as WorkerList).workers

async function classifies(what: string): Promise<void> {
  const client = new HivesightClient(base)
  const img = images[Math.floor(Math.random() * images.length)]!
  const { jobs } = await client.submitFiles([img.path])
  const job = await client.waitFinished(jobs[0]!.id, 60_000)
  assert.equal(job.status, 'succeeded', `${what}: ${job.status} ${job.error?.message ?? ''}\n${output.slice(-2000)}`)
  assert.equal(job.result?.predictions.length, 5)
}

test('npm start survives Chromium killed -9 during launch and while serving, and the runtime killed -9', { timeout: 240_000 }, async () => {
  // 1. During launch: the first browser process is killed before any page has connected.
  await until(() => browsers().length > 0, 90_000, 'npm start to launch Chromium')
  assert.equal((await workers()).length, 0, 'killed before a page connected')
  for (const pid of browsers()) process.kill(pid, 'SIGKILL')
  await until(async () => (await workers()).length === 1, 90_000, `a page after the launch was killed\n${output.slice(-2000)}`)
  assert.match(output, /chromium (failed|is gone)/)
  assert.ok(alive(), 'npm start is still up')

  // The page runs two wasm threads because /worker is cross-origin isolated, and says so.
  const [page] = await workers()
  assert.equal(page!.threads, 2)
  assert.equal(page!.flavour, 'simd+threads')
  await classifies('after a kill during launch')

  // 2. While serving.
  const first = page!.id
  for (const pid of browsers()) process.kill(pid, 'SIGKILL')
  await until(async () => (await workers()).some((w) => w.id !== first), 60_000, `a new page after Chromium was killed while serving\n${output.slice(-2000)}`)
  await classifies('after a kill while serving')

  // 3. The runtime process itself: npm start starts it again instead of stopping everything.
  const runtime = descendants(start.pid!).find((pid) => {
    try {
      return process.kill(pid, 0) && descendants(pid).some(isBrowserMain)
    } catch {
      return false
    }
  })
  assert.ok(runtime, 'the worker runtime process')
  const before = new Set((await workers()).map((w) => w.id))
  process.kill(runtime, 'SIGKILL')
  await until(async () => (await workers()).some((w) => !before.has(w.id)), 90_000, `a page of a restarted runtime\n${output.slice(-2000)}`)
  assert.match(output, /worker runtime exited \(SIGKILL\); starting it again/)
  assert.ok(alive(), 'npm start is still up')
  assert.ok((await fetch(`${base}/readyz`)).ok)
  await classifies('after the runtime was restarted')
})
