import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { signSessionToken } from '@hivesight/protocol/session-token'
import { tinyPng } from '@hivesight/coordinator/test-support/hostile-payloads'
import { SimulatedWorker } from '@hivesight/worker-runtime/simulated'
import { throwawayDatabase } from '../src/cluster/throwaway-mariadb.ts'
import { CoordinatorProcess } from '../src/harness/coordinator-process.ts'
import { freePort } from '../src/harness/free-port.ts'

// A coordinator killed -9 leaves its workers' rows and sessions in the shared database with nobody to
// vouch for them. Its peer may take a session over once it has been untouched for three sweeps (6 s at the
// default 2 s), and its sweep takes the workers' jobs back at the first sweep after that. The dead one's last
// sweep was up to one sweep before the kill, so: sessions 4–6 s after the kill, jobs 4–8 s.
const SWEEP_MS = 2_000
const SLACK_MS = 2_500 // process scheduling on a busy 2-core machine, the retry loop's period, round trips

test('sessions and jobs of a coordinator killed -9 are taken over by its peer after three sweeps without a touch', { timeout: 120_000 }, async (t) => {
  const database = await throwawayDatabase('hivesight_takeover')
  const secret = 'takeover-worker-secret-0123'
  const start = async (id: string) => {
    const dataDir = mkdtempSync(join(tmpdir(), `hivesight-${id}-`))
    const p = new CoordinatorProcess({ port: await freePort(), dataDir, databaseUrl: database.url, env: { COORDINATOR_ID: id, WORKER_TOKEN: secret, PING_INTERVAL_MS: String(SWEEP_MS) } })
    t.after(async () => {
      await p.kill('SIGKILL')
      rmSync(dataDir, { recursive: true, force: true })
    })
    await p.start()
    return { p, ws: `${p.url.replace('http', 'ws')}/ws/worker` }
  }
  const workers: SimulatedWorker[] = []
  t.after(async () => {
    for (const w of workers) w.kill()
    await database.drop()
  })
  const [a, b] = await Promise.all([start('coord-a'), start('coord-b')])
  const token = signSessionToken(secret, { kind: 'worker', name: 'vm5-1', expires: 0 })
  const held = await SimulatedWorker.connect(a.ws, { token, slots: 1 })
  workers.push(held)
  const form = new FormData()
  form.append('image', new Blob([new Uint8Array(tinyPng())], { type: 'image/png' }), 'a.png')
  const res = await fetch(`${a.p.url}/api/v1/jobs`, { method: 'POST', body: form })
  assert.equal(res.status, 202)
  const jobId = ((await res.json()) as { jobs: { id: string }[] }).jobs[0]!.id
  assert.equal((await held.assignment(0)).job.jobId, jobId)
  const spare = await SimulatedWorker.connect(b.ws, { slots: 1 })
  workers.push(spare)

  await a.p.kill('SIGKILL')
  const killedAt = performance.now()
  // The job comes back on the peer's idle worker; meanwhile the token is retried there, as its page would.
  const jobBack = spare.assignment(0, 3 * SWEEP_MS + SWEEP_MS + SLACK_MS + 5_000).then(() => performance.now() - killedAt)
  let refusals = 0
  let sessionMs = 0
  while (!sessionMs) {
    const w = await SimulatedWorker.connect(b.ws, { token, slots: 1 }).catch(() => undefined)
    if (w) {
      sessionMs = performance.now() - killedAt
      workers.push(w)
    } else {
      refusals++
      assert.ok(performance.now() - killedAt < 3 * SWEEP_MS + SLACK_MS + 5_000, 'the dead coordinator\'s session was never taken over')
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  const jobMs = await jobBack
  console.log(`# session taken over ${Math.round(sessionMs)} ms after the kill (${refusals} refusals), job running on the peer after ${Math.round(jobMs)} ms`)
  assert.ok(refusals > 0, 'refused while the dead session was fresh')
  assert.ok(sessionMs > 2 * SWEEP_MS - 1_000 && sessionMs < 3 * SWEEP_MS + SLACK_MS, `session after ${Math.round(sessionMs)} ms (4–6 s expected)`)
  assert.ok(jobMs > 2 * SWEEP_MS - 1_000 && jobMs < 4 * SWEEP_MS + SLACK_MS, `job after ${Math.round(jobMs)} ms (4–8 s expected)`)
  assert.equal(spare.assignments[0]!.job.jobId, jobId)
  assert.equal(spare.assignments[0]!.job.attempt, 2, 'the lost lease counted as an attempt')
})
