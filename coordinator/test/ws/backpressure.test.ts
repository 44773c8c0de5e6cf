import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import { test } from 'node:test'
import type { JobView } from '@hivesight/protocol'
import { jpeg } from '../support/images.ts'
import { listeningApp } from '../support/listening-app.ts'
import { multipart } from '../support/test-app.ts'

// A worker that stops reading (a hung tab, a full pipe) must not make the coordinator buffer images without
// end: past 32 MiB waiting in its socket it is dropped and its jobs go back to the queue at once. Pings are
// set to a minute here, so that only the buffer limit can drop it within this test.
test('a worker that stops reading is dropped at 32 MiB buffered, and its jobs are requeued for others', { timeout: 60_000 }, async (t) => {
  const app = await listeningApp(t, { env: { PING_INTERVAL_MS: '60000', LEASE_MS: '600000' } })
  const stuck = await app.worker({ slots: 16 })
  // ws keeps its TCP socket private; pausing it is what a peer that stops reading looks like.
  ;(stuck.ws as unknown as { _socket: Socket })._socket.pause()

  // 6 images of 9 MiB (a real JPEG header, then padding): 54 MiB, more than the limit plus the kernel's buffers.
  const big = Buffer.concat([jpeg(), Buffer.alloc(9 * 1024 * 1024)])
  const res = await app.app.inject({ method: 'POST', url: '/api/v1/jobs', ...multipart(Array.from({ length: 6 }, (_, i) => ({ name: `${i}.jpg`, data: big }))) })
  assert.equal(res.statusCode, 202, res.body)
  const ids: string[] = res.json().jobs.map((j: { id: string }) => j.id)

  const end = Date.now() + 20_000
  while (app.registry.size > 0) {
    assert.ok(Date.now() < end, 'the worker that stopped reading is still registered after 20 s')
    await new Promise((r) => setTimeout(r, 50))
  }
  // Its own end never reads the server's goodbye (paused): let it go, or closing it waits 30 s for one.
  stuck.kill()
  const views = await Promise.all(ids.map(async (id) => (await app.app.inject({ url: `/api/v1/jobs/${id}` })).json() as JobView))
  assert.deepEqual(views.map((v) => v.status), ids.map(() => 'queued'), 'every job it held is back in the queue')

  // A worker that reads gets every one of them, images intact.
  const reader = await app.worker({ slots: 16 })
  const got = await Promise.all(ids.map((_, n) => reader.assignment(n, 20_000)))
  assert.deepEqual(got.map((a) => a.job.jobId).sort(), [...ids].sort())
  assert.ok(got.every((a) => a.image.length === big.length))
})
