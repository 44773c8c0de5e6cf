import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { test } from 'node:test'
import { REPO_ROOT } from '@hivesight/coordinator'
import type { JobPage, JobView, WorkerList } from '@hivesight/protocol'
import { findChromium } from '@hivesight/worker-runtime/chromium-path'
import { SimulatedWorker } from '@hivesight/worker-runtime/simulated'
import { readLabelledDataset, spreadSample } from '../src/dataset/labelled-dataset.ts'
import { descendants, isBrowserMain } from '../src/faults/process-tree.ts'
import { CoordinatorProcess } from '../src/harness/coordinator-process.ts'
import { freePort } from '../src/harness/free-port.ts'
import { until } from '../src/harness/local-system.ts'

// A real SIGTERM to a real worker runtime (the bundled one `npm start` and worker VMs run, two Chromium
// pages) while it works through a backlog: it must exit within its 20 s bound, its pages must hand back the
// jobs they had not started without using an attempt, and finish the ones they were predicting. Nothing may
// be lost: everything not finished is queued, and another worker finishes it.
const DATASET = process.env.DATASET_DIR ?? resolve(REPO_ROOT, '../shared/datasets/imagenet-val-dev')
const DRAIN_BOUND_MS = 20_000

test('SIGTERM to a worker runtime: it exits within 20 s, unstarted jobs are handed back with no attempt used, the running ones finish, nothing is lost', { timeout: 240_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hivesight-runtime-drain-'))
  const coordinator = new CoordinatorProcess({ port: await freePort(), dataDir })
  await coordinator.start()
  let output = ''
  const runtime = spawn(process.execPath, ['worker-runtime/dist/runtime/cli.mjs', '--coordinator', coordinator.url, '--pages', '2', '--threads', '1', '--name', 'drain'], {
    cwd: REPO_ROOT, env: { ...process.env, CHROMIUM_PATH: findChromium() }, stdio: ['ignore', 'pipe', 'pipe'],
  })
  runtime.stdout.on('data', (d: Buffer) => (output += d.toString()))
  runtime.stderr.on('data', (d: Buffer) => (output += d.toString()))
  const exited = new Promise<{ code: number | null; at: number }>((res) => runtime.once('exit', (code) => res({ code, at: performance.now() })))
  let browsers: number[] = []
  t.after(async () => {
    if (runtime.exitCode === null && runtime.signalCode === null) runtime.kill('SIGKILL')
    for (const pid of browsers) try { process.kill(pid, 'SIGKILL') } catch { /* gone, as it should be */ }
    await coordinator.kill('SIGKILL')
    rmSync(dataDir, { recursive: true, force: true })
  })
  const api = async <T>(path: string): Promise<T> => (await (await fetch(`${coordinator.url}${path}`)).json()) as T
  const jobs = async (status: string) => (await api<JobPage>(`/api/v1/jobs?status=${status}&limit=500`)).jobs
  const counts = async () => Object.fromEntries(await Promise.all(['queued', 'running', 'succeeded', 'failed'].map(async (s) => [s, (await jobs(s)).length] as const)))
  // Fails fast, with the runtime's output, if it exits.
  const waitFor = async (cond: () => Promise<boolean>, ms: number, what: string) => {
    try {
      await until(async () => {
        if (runtime.exitCode !== null) throw new Error(`the runtime exited with ${runtime.exitCode}`)
        return cond()
      }, ms, what)
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : String(err)}: ${JSON.stringify(await counts().catch(() => null))}\n${output.slice(-3000)}`)
    }
  }
  // Longer than the runtime's own 120 s wait for a page: one that failed to load is started over meanwhile.
  await waitFor(async () => (await api<WorkerList>('/api/v1/workers')).workers.length === 2, 150_000, 'both pages to join')

  // A backlog: every page always holds one image it predicts and one it prepares.
  const form = new FormData()
  for (const img of spreadSample(readLabelledDataset(DATASET), 60)) form.append('image', new Blob([readFileSync(img.path)], { type: 'image/jpeg' }), img.file)
  const res = await fetch(`${coordinator.url}/api/v1/jobs`, { method: 'POST', body: form })
  assert.equal(res.status, 202)
  const ids = ((await res.json()) as { jobs: { id: string }[] }).jobs.map((j) => j.id)
  await waitFor(async () => (await jobs('succeeded')).length >= 4 && (await jobs('running')).length >= 3, 60_000, 'the pages to be busy')

  browsers = descendants(runtime.pid!).filter(isBrowserMain)
  const heldAtTerm = (await jobs('running')).map((j) => j.id)
  const termAt = performance.now()
  runtime.kill('SIGTERM')
  const { code, at } = await exited
  const tookMs = at - termAt
  console.log(`# the runtime exited ${Math.round(tookMs)} ms after SIGTERM, holding ${heldAtTerm.length} jobs when it came`)
  assert.equal(code, 0, output.slice(-2000))
  assert.ok(tookMs < DRAIN_BOUND_MS, `exited ${Math.round(tookMs)} ms after SIGTERM`)
  assert.match(output, /SIGTERM: draining/)
  await until(() => browsers.every((pid) => { try { return !process.kill(pid, 0) } catch { return true } }), 5_000, 'its Chromium to be gone')

  // Every job is finished (one attempt) or queued with no attempt used. A queued job with an attempt used
  // would be one lost with the connection and requeued: not a graceful drain. Handed back = queued although
  // it was leased once (startedAt stays from its lease); the pages may have taken new jobs between the
  // snapshot above and the drain, so these are looked for among all jobs, not only those held at the snapshot.
  const after = new Map<string, JobView>()
  for (const id of ids) after.set(id, await api<JobView>(`/api/v1/jobs/${id}`))
  const all = [...after.values()]
  const handedBack = all.filter((j) => j.status === 'queued' && j.startedAt !== null)
  const finished = heldAtTerm.filter((id) => after.get(id)!.status === 'succeeded')
  console.log(`# ${finished.length} of them finished; ${handedBack.length} jobs were handed back`)
  assert.deepEqual(all.filter((j) => j.status !== 'succeeded' && j.status !== 'queued').map((j) => j.status), [], 'nothing but succeeded or queued')
  assert.deepEqual(all.filter((j) => j.status === 'queued' && j.attempts !== 0).map((j) => j.id), [], 'no queued job has an attempt used')
  assert.ok(handedBack.length >= 1, 'the pages held unstarted jobs and handed them back')
  assert.ok(finished.length >= 1, 'the jobs being predicted finished during the drain')
  assert.ok([...after.values()].filter((j) => j.status === 'succeeded').every((j) => j.attempts === 1))

  // Nothing lost: another worker gets everything left, each on its first attempt.
  const queued = [...after.values()].filter((j) => j.status === 'queued').map((j) => j.id)
  const other = await SimulatedWorker.connect(`${coordinator.url.replace('http', 'ws')}/ws/worker`, { slots: 16 })
  t.after(() => other.close())
  for (let n = 0; n < queued.length; n++) {
    const a = await other.assignment(n, 10_000)
    assert.equal(a.job.attempt, 1, `job ${a.job.jobId} runs on its first attempt`)
    other.succeed(a)
  }
  await until(async () => (await jobs('succeeded')).length === ids.length, 10_000, 'every job to succeed')
})
