import assert from 'node:assert/strict'
import { test } from 'node:test'
import { appendEvents } from '../../src/db/event.repository.ts'
import { ClusterSignals, type SignalHandlers } from '../../src/jobs/cluster-signals.ts'
import { DIALECTS, freshDb } from '../support/databases.ts'

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined }

function recorder(): SignalHandlers & { seen: string[] } {
  const seen: string[] = []
  return {
    seen,
    queued: () => seen.push('queued'),
    canceled: (jobId, workerId, token) => seen.push(`canceled ${jobId} ${workerId} ${token}`),
    finished: (ids) => seen.push(`finished ${ids.join(',')}`),
  }
}

for (const dialect of DIALECTS) {
  test(`[${dialect}] a coordinator hears the others' signals once, in order, and not its own; history before its start is not replayed`, async (t) => {
    const { db, close } = await freshDb(dialect)
    t.after(close)
    await appendEvents(db.kysely, [{ kind: 'jobs.queued', origin: 'old', payload: '{}', created_at: 1 }])
    const a = new ClusterSignals(db, silent, { origin: 'a', pollMs: 10_000 })
    const b = new ClusterSignals(db, silent, { origin: 'b', pollMs: 10_000 })
    const heardByA = recorder()
    const heardByB = recorder()
    await a.start(heardByA)
    await b.start(heardByB)
    t.after(() => {
      a.stop()
      b.stop()
    })
    await a.publish({ kind: 'jobs.queued' }, 10)
    await b.publish({ kind: 'job.canceled', jobId: 'j1', workerId: 'w9', token: 3 }, 11)
    // Inside a transaction, as the result commit writes it.
    await db.kysely.transaction().execute((trx) => appendEvents(trx, [b.row({ kind: 'jobs.finished', jobIds: ['j2', 'j3'] }, 12)]))
    await a.poll()
    await b.poll()
    await a.poll()
    assert.deepEqual(heardByA.seen, ['canceled j1 w9 3', 'finished j2,j3'])
    assert.deepEqual(heardByB.seen, ['queued'])
    assert.equal(await a.prune(11), 2, 'events older than the cut-off go')
  })
}
