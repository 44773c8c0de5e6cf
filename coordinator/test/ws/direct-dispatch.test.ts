import assert from 'node:assert/strict'
import { test } from 'node:test'
import { insertJobs } from '../../src/db/job.repository.ts'
import { directLeases } from '../../src/jobs/upload-committer.ts'
import { tinyPng } from '../support/images.ts'
import { listeningApp, type ListeningApp } from '../support/listening-app.ts'
import { multipart } from '../support/test-app.ts'

test('directLeases: only jobs above what already waits skip the queue, highest priority first, then upload order', () => {
  const jobs = [{ id: 'a', priority: 0 }, { id: 'b', priority: 5 }, { id: 'c', priority: 0 }, { id: 'd', priority: 5 }]
  assert.deepEqual([...directLeases(jobs, { workerIds: ['w1', 'w2', 'w3'] }, undefined)], [['b', 'w1'], ['d', 'w2'], ['a', 'w3']])
  assert.deepEqual([...directLeases(jobs, { workerIds: ['w1', 'w2', 'w3'] }, 0)], [['b', 'w1'], ['d', 'w2']], 'equal priority keeps FIFO: it waits')
  assert.deepEqual([...directLeases(jobs, { workerIds: ['w1'] }, 9)], [])
})

async function submit(app: ListeningApp, n: number, priority = 0): Promise<string[]> {
  const files = Array.from({ length: n }, (_, i) => ({ name: `${i}.png`, type: 'image/png', data: tinyPng() }))
  const res = await app.app.inject({ method: 'POST', url: `/api/v1/jobs?priority=${priority}`, ...multipart(files) })
  assert.equal(res.statusCode, 202, res.body)
  return res.json().jobs.map((j: { id: string }) => j.id)
}

test('an upload to an idle coordinator is leased to its free worker in the upload\'s own commit: running before the 202, no claim', async (t) => {
  const app = await listeningApp(t)
  const w = await app.worker({ slots: 2 })
  await app.sweeper.sweep() // the pump has looked at the (empty) queue
  const [a, b, c] = await submit(app, 3)
  // The 202 comes after the commit; the two free slots were filled in that commit, the third job waits.
  const rows = await app.db.kysely.selectFrom('jobs').select(['id', 'status', 'worker_id', 'lease_token', 'attempts']).orderBy('id').execute()
  assert.deepEqual(rows.map((r) => [r.id, r.status, r.worker_id, Number(r.lease_token), Number(r.attempts)]), [
    [a, 'running', w.workerId, 1, 1], [b, 'running', w.workerId, 1, 1], [c, 'queued', null, 0, 0],
  ])
  const got = [await w.assignment(0), await w.assignment(1)]
  assert.deepEqual(got.map((x) => [x.job.jobId, x.job.leaseToken]), [[a, 1], [b, 1]])
  assert.deepEqual(Buffer.from(got[0]!.image), tinyPng())
  w.succeed(got[0]!)
  assert.equal((await w.assignment(2)).job.jobId, c, 'the waiting job goes to the freed slot')
  assert.equal((await app.app.inject({ url: `/api/v1/jobs/${a}?wait=5` })).json().status, 'succeeded')
})

test('a job waiting in the shared queue (another coordinator\'s upload) is not overtaken by a direct lease of the same priority', async (t) => {
  const app = await listeningApp(t)
  const w = await app.worker({ slots: 1 })
  await app.sweeper.sweep()
  // As another coordinator's upload looks here before its signal arrives: queued, unknown to this pump.
  const now = Date.now()
  await insertJobs(app.db.kysely, [{ id: '00000000-0000-7000-8000-000000000001', status: 'queued', priority: 0, attempts: 0, max_attempts: 5, lease_token: 0, submitted_at: now, available_at: now, filename: 'early.png', content_type: 'image/png', byte_size: 1, width: 1, height: 1 }])
  await app.db.kysely.insertInto('images').values({ job_id: '00000000-0000-7000-8000-000000000001', bytes: tinyPng() }).execute()
  const [late] = await submit(app, 1)
  const first = await w.assignment(0)
  assert.equal(first.job.jobId, '00000000-0000-7000-8000-000000000001', 'the earlier job of the same priority runs first')
  w.succeed(first)
  assert.equal((await w.assignment(1)).job.jobId, late)
})
