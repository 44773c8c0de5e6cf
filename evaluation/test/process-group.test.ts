import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { createDb } from '@hivesight/coordinator'
import { SimulatedWorker } from '@hivesight/worker-runtime/simulated'
import { throwawayDatabase } from '../src/cluster/throwaway-mariadb.ts'
import { CoordinatorProcess } from '../src/harness/coordinator-process.ts'
import { freePort } from '../src/harness/free-port.ts'
import { until } from '../src/harness/local-system.ts'

test('COORDINATOR_PROCESSES=2: two peer processes share one port, each a coordinator of its own (id#slot); one killed is started again in its slot', async (t) => {
  const database = await throwawayDatabase('hivesight_group')
  const dataDir = mkdtempSync(join(tmpdir(), 'hivesight-group-'))
  const node = new CoordinatorProcess({ port: await freePort(), dataDir, databaseUrl: database.url, env: { COORDINATOR_ID: 'host-a', COORDINATOR_PROCESSES: '2' } })
  const db = createDb({ databaseUrl: database.url })
  const workers: SimulatedWorker[] = []
  t.after(async () => {
    await Promise.all(workers.map((w) => w.close()))
    await node.kill('SIGTERM')
    await db.kysely.destroy()
    await database.drop()
    rmSync(dataDir, { recursive: true, force: true })
  })
  await node.start()
  const coordinators = async () => (await db.kysely.selectFrom('workers').select('coordinator_id').execute()).map((r) => r.coordinator_id)
  // Connections are handed out in turn among the processes listening: workers reach both once both are up.
  await until(async () => {
    workers.push(await SimulatedWorker.connect(`${node.url.replace('http', 'ws')}/ws/worker`))
    return new Set(await coordinators()).size === 2
  }, 20_000, 'workers on both processes')
  assert.deepEqual([...new Set(await coordinators())].sort(), ['host-a#1', 'host-a#2'])
  const onFirst = (await coordinators()).filter((c) => c === 'host-a#1').length
  const children = () => execFileSync('pgrep', ['-P', String(node.pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number)
  const before = children()
  assert.equal(before.length, 2)
  // Which child is slot 1: the one whose id its worker rows carry is not known from here, so kill by slot's env.
  const slotOf = (pid: number) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').find((v) => v.startsWith('COORDINATOR_SLOT='))?.split('=')[1]
  const first = before.find((pid) => slotOf(pid) === '1')!
  process.kill(first, 'SIGKILL')
  await until(() => {
    const now = children()
    return now.length === 2 && !now.includes(first)
  }, 10_000, 'the killed process started again')
  // Its slot keeps its id, so the new process took back what the old one held: the old rows are gone.
  await until(async () => !(await coordinators()).includes('host-a#1'), 20_000, `the ${onFirst} workers of the dead process taken back`)
})
