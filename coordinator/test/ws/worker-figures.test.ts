import assert from 'node:assert/strict'
import { test } from 'node:test'
import { PROTOCOL_VERSION, type WorkerHello, type WorkerView } from '@hivesight/protocol'
import { DIALECTS } from '../support/databases.ts'
import { tinyPng } from '../support/images.ts'
import { listeningApp, type ListeningApp } from '../support/listening-app.ts'
import { multipart } from '../support/test-app.ts'

async function eventually(check: () => boolean | Promise<boolean>, what: string, ms = 5_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

async function workers(app: ListeningApp): Promise<WorkerView[]> {
  // The periodic sweep may be half way through; the second one starts after the last result.
  await app.sweeper.sweep()
  await app.sweeper.sweep()
  return (await app.app.inject({ url: '/api/v1/workers' })).json().workers
}

/** The value of one per-worker series in a /metrics body, or undefined when it has no line. */
function series(body: string, name: string, workerId: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`worker_id="${workerId}"`))
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
}

for (const dialect of DIALECTS) {
  test(`[${dialect}] /api/v1/workers and /metrics show each worker's flavour, images/s and recent times; a departed worker's lines go`, { timeout: 60_000 }, async (t) => {
    const app = await listeningApp(t, { dialect })
    const fast = await app.worker({ hello: false })
    const hello: WorkerHello = { type: 'worker.hello', protocol: PROTOCOL_VERSION, kind: 'headless', slots: 1, name: 'fig-1', backend: 'wasm', threads: 4, simd: true }
    fast.send(hello)
    await fast.waitFor(() => fast.workerId !== undefined, 5_000, 'welcome')
    const id = fast.workerId!

    const sent = [{ decodeMs: 2, inferMs: 20 }, { decodeMs: 4, inferMs: 30 }, { decodeMs: 6, inferMs: 40 }]
    const files = sent.map((_, i) => ({ name: `${i}.png`, type: 'image/png', data: tinyPng() }))
    assert.equal((await app.app.inject({ method: 'POST', url: '/api/v1/jobs', ...multipart(files) })).statusCode, 202)
    for (const [i, timings] of sent.entries()) {
      const a = await fast.assignment(i)
      app.clock.advance(500)
      fast.send({ type: 'job.result', jobId: a.job.jobId, leaseToken: a.job.leaseToken, model: a.job.model, top: [{ index: 1, score: 0.9 }], timings })
      await eventually(() => app.counters.completed === i + 1, `result ${i + 1} accepted`)
    }
    app.clock.advance(500)

    const mine = (await workers(app)).find((w) => w.id === id)
    assert.ok(mine, 'listed')
    assert.deepEqual({ jobsDone: mine.jobsDone, simd: mine.simd, threads: mine.threads, flavour: mine.flavour }, { jobsDone: 3, simd: true, threads: 4, flavour: 'simd+threads' })
    assert.equal(mine.imagesPerSecond, 1.5, '3 results in the 2 s since it joined')
    // Weighted towards the first sample (20 → 22 → 25.6; 2 → 2.4 → 3.12), within what was sent.
    assert.ok(Math.abs(mine.inferMs! - 25.6) < 0.01, `inferMs ${mine.inferMs}`)
    assert.ok(Math.abs(mine.prepareMs! - 3.12) < 0.01, `prepareMs ${mine.prepareMs}`)

    const plain = await app.worker({ name: 'plain-1' })
    const other = (await workers(app)).find((w) => w.id === plain.workerId)
    assert.deepEqual(other && [other.flavour, other.simd, other.imagesPerSecond, other.inferMs, other.prepareMs], ['plain', false, 0, null, null])

    let body = (await app.app.inject({ url: '/metrics' })).body
    assert.equal(series(body, 'hivesight_worker_images_per_second', id), 1.5)
    assert.ok(Math.abs(series(body, 'hivesight_worker_recent_inference_ms', id)! - 25.6) < 0.01, 'inference line')
    assert.ok(Math.abs(series(body, 'hivesight_worker_recent_prepare_ms', id)! - 3.12) < 0.01, 'prepare line')
    assert.match(body, new RegExp(`hivesight_worker_images_per_second\\{[^}]*worker_name="fig-1"`), 'labelled by name too')
    assert.equal(series(body, 'hivesight_worker_images_per_second', plain.workerId!), 0)
    assert.equal(series(body, 'hivesight_worker_recent_inference_ms', plain.workerId!), undefined, 'no time before a first result')

    await fast.close()
    await eventually(() => app.registry.get(id) === undefined, 'the worker left')
    body = (await app.app.inject({ url: '/metrics' })).body
    assert.ok(!body.includes(id), 'no series of the departed worker')
    assert.equal(series(body, 'hivesight_worker_images_per_second', plain.workerId!), 0, 'the others stay')
    assert.deepEqual((await workers(app)).map((w) => w.id), [plain.workerId])
  })
}
