import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import type { JobView } from '@hivesight/protocol'
import { tinyPng } from '@hivesight/coordinator/test-support/hostile-payloads'
import { SimulatedWorker } from '@hivesight/worker-runtime/simulated'
import { CoordinatorProcess } from '../src/harness/coordinator-process.ts'
import { freePort } from '../src/harness/free-port.ts'

// A real SIGTERM to a real coordinator process (embedded SQLite file): uploads are refused with 503 while it
// drains, its workers are told, a held job may still finish; it exits on its own, and what was not finished
// is in the database for the next start.

async function upload(url: string, n: number): Promise<Response> {
  const form = new FormData()
  for (let i = 0; i < n; i++) form.append('image', new Blob([Buffer.concat([tinyPng(), Buffer.from(`drain-${i}`)])], { type: 'image/png' }), `${i}.png`)
  return fetch(`${url}/api/v1/jobs`, { method: 'POST', body: form })
}

const job = async (url: string, id: string): Promise<JobView> => (await (await fetch(`${url}/api/v1/jobs/${id}`)).json()) as JobView

test('SIGTERM to the coordinator: uploads get 503, workers are told, a held job finishes, the rest waits in the database', { timeout: 90_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hivesight-drain-'))
  const port = await freePort()
  const coordinator = new CoordinatorProcess({ port, dataDir })
  t.after(async () => {
    await coordinator.kill('SIGKILL')
    rmSync(dataDir, { recursive: true, force: true })
  })
  await coordinator.start()
  const wsUrl = `ws://127.0.0.1:${port}/ws/worker`
  const worker = await SimulatedWorker.connect(wsUrl, { slots: 1 })
  const res = await upload(coordinator.url, 2)
  assert.equal(res.status, 202)
  const [held, waiting] = ((await res.json()) as { jobs: { id: string }[] }).jobs.map((j) => j.id) as [string, string]
  const a = await worker.assignment(0)
  assert.equal(a.job.jobId, held)

  const pid = coordinator.pid!
  const exited = new Promise<number>((resolve) => {
    const started = Date.now()
    const poll = setInterval(() => {
      try {
        process.kill(pid, 0)
      } catch {
        clearInterval(poll)
        resolve(Date.now() - started)
      }
    }, 50)
  })
  process.kill(pid, 'SIGTERM')
  await worker.waitFor(() => worker.messages.some((m) => m.type === 'coordinator.draining'), 5_000, 'coordinator.draining')
  const refused = await upload(coordinator.url, 1)
  assert.equal(refused.status, 503)
  assert.equal(((await refused.json()) as { code: string }).code, 'SHUTTING_DOWN')
  assert.ok(refused.headers.get('retry-after'), 'Retry-After')
  worker.succeed(a, [7])
  const tookMs = await exited
  assert.ok(tookMs < 15_000, `the coordinator exited ${tookMs} ms after SIGTERM`)
  await worker.close().catch(() => undefined)

  // The next start finds the finished job finished and the other one queued, and a worker gets it.
  await coordinator.start()
  const done = await job(coordinator.url, held)
  assert.equal(done.status, 'succeeded', 'the held job finished during the drain')
  assert.equal(done.attempts, 1)
  assert.equal((await job(coordinator.url, waiting)).status, 'queued')
  const next = await SimulatedWorker.connect(wsUrl, { slots: 1 })
  t.after(() => next.close())
  const b = await next.assignment(0, 10_000)
  assert.equal(b.job.jobId, waiting)
  assert.equal(b.job.attempt, 1, 'no attempt was used up by the shutdown')
})
