import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { tinyPng } from '@hivesight/coordinator/test-support/hostile-payloads'
import { SimulatedWorker } from '@hivesight/worker-runtime/simulated'
import { descendants, signalAll } from '../src/faults/process-tree.ts'
import { CoordinatorProcess } from '../src/harness/coordinator-process.ts'
import { freePort } from '../src/harness/free-port.ts'
import { until } from '../src/harness/local-system.ts'

// Power loss is not tested: this kernel has no device-mapper (no dm-flakey or dm-log-writes to drop what
// was not flushed) and the VM's disk cache is out of reach. What can be seen is the step the promise rests
// on: the coordinator's process (embedded SQLite file, under strace) asks the kernel to flush the database
// before an upload's 202, and its dispatch commits (lease, result) do not, as the README says. Whether the
// disk keeps what it was told to flush is the disk's part.
test('an upload is fsynced to the SQLite file before its 202; the dispatch commits that follow are not', { timeout: 90_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hivesight-fsync-'))
  const trace = join(dataDir, 'fsync.trace')
  const coordinator = new CoordinatorProcess({ port: await freePort(), dataDir, wrap: ['strace', '-f', '-y', '-ttt', '-e', 'trace=fsync,fdatasync', '-o', trace] })
  t.after(async () => {
    // The coordinator runs under strace, which leaves its tracee running when it is killed itself.
    if (coordinator.pid) signalAll(descendants(coordinator.pid), 'SIGKILL')
    await coordinator.kill('SIGKILL')
    rmSync(dataDir, { recursive: true, force: true })
  })
  await coordinator.start()
  // strace -ttt stamps in seconds of the same wall clock as Date.now().
  const flushes = (from: number, to: number) => readFileSync(trace, 'utf8').split('\n')
    // A call another thread interrupts is split: "fdatasync(12</…-wal> <unfinished ...>", resumed later.
    .map((l) => /^\d+\s+(\d+\.\d+) f(?:data)?sync\(\d+<([^>]+)>/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null && Number(m[1]) * 1000 >= from && Number(m[1]) * 1000 <= to && m[2]!.includes('hivesight.sqlite'))
    .map((m) => m[2]!)

  const sent = Date.now()
  const form = new FormData()
  form.append('image', new Blob([new Uint8Array(tinyPng())], { type: 'image/png' }), 'a.png')
  const res = await fetch(`${coordinator.url}/api/v1/jobs`, { method: 'POST', body: form })
  const acked = Date.now()
  assert.equal(res.status, 202)
  const id = ((await res.json()) as { jobs: { id: string }[] }).jobs[0]!.id
  const beforeAck = flushes(sent, acked)
  assert.ok(beforeAck.some((path) => path.endsWith('hivesight.sqlite-wal')), `no flush of the write-ahead log between the upload and its 202 (saw: ${beforeAck.join(', ') || 'none'})`)

  const leasedFrom = Date.now()
  const worker = await SimulatedWorker.connect(`${coordinator.url.replace('http', 'ws')}/ws/worker`)
  t.after(() => worker.close())
  worker.succeed(await worker.assignment(0))
  await until(async () => ((await (await fetch(`${coordinator.url}/api/v1/jobs/${id}`)).json()) as { status: string }).status === 'succeeded', 10_000, 'the result')
  const dispatch = flushes(leasedFrom, Date.now())
  console.log(`# flushes before the 202: ${beforeAck.length}; during lease and result: ${dispatch.length}`)
  assert.deepEqual(dispatch, [], 'the lease and the result are committed without a flush (synchronous=NORMAL)')
})
