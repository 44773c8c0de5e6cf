import assert from 'node:assert/strict'
import { test } from 'node:test'
import { F1, F3, F5, F6, F11 } from '../src/faults/catalogue.ts'
import { runFault } from '../src/faults/fault-run.ts'
import { formatFaultTable } from '../src/faults/fault-table.ts'

// The fast subset of `npm run eval:faults`: a real coordinator process (F5 kills it -9; F6 stops a private
// MariaDB server for real), but simulated workers over real WebSockets, whose "kill" and "SIGSTOP" are a cut
// connection and a paused socket (the titles say so), and waits scaled by 0.1. The real signals to real
// Chromium runtimes are in `npm run eval:faults`. Clients retry with Idempotency-Key; nothing acknowledged
// may be lost, duplicated or overwritten.
for (const fault of [F1, F3, F5, F6, F11]) {
  test(`${fault.id}: ${fault.simulatedTitle ?? fault.title} (simulated workers, waits × 0.1) — 0 lost, 0 duplicated, a result for every succeeded job, 0 overwrites`, async () => {
    const r = await runFault(fault, { jobs: 30, workers: 3, fleet: 'simulated', timeScale: 0.1 })
    console.log(formatFaultTable([r]).split('\n').map((l) => `# ${l}`).join('\n'))
    assert.equal(r.jobs, 30)
    assert.equal(r.lost, 0)
    assert.equal(r.duplicated, 0)
    assert.equal(r.noResult, 0)
    assert.equal(r.overwrites, 0)
    // A stopped database is the service's problem, said as 503 + Retry-After; a 500 would be a bug.
    assert.deepEqual(Object.keys(r.clientSaw).filter((s) => /^5/.test(s) && s !== '503'), [], `clients saw ${JSON.stringify(r.clientSaw)}`)
    if (fault === F11) assert.deepEqual(r.byStatus, { succeeded: 29, failed: 1 })
    else assert.deepEqual(r.byStatus, { succeeded: 30 })
    if (fault === F1) {
      // A connection that drops is noticed at once (the socket closes): its jobs run elsewhere within seconds.
      assert.ok(r.requeueMaxS !== null && r.requeueMaxS <= 5, `requeue after ${r.requeueMaxS} s (goal ≤ 5 s)`)
    }
    if (fault === F6) {
      // Answers that came while the database was down were kept and applied after: none was redone.
      assert.ok(r.bufferedAnswers > 0, `no answer arrived during the outage (${r.notes.join('; ')})`)
      assert.equal(r.retried, 0, 'a job ran twice: its answer was lost and its lease expired')
    }
    if (fault === F3) {
      assert.ok((r.staleAnswersSent ?? 0) > 0, 'the frozen worker sent late answers')
      // Counted on the coordinator's side: every late answer was refused, none was taken.
      assert.ok(r.refusedAnswers >= r.staleAnswersSent!, `${r.refusedAnswers} refused of ${r.staleAnswersSent} late answers sent`)
      assert.ok(r.requeueMaxS !== null && r.requeueMaxS <= 8, `requeue after ${r.requeueMaxS} s (goal ≤ 8 s)`)
    }
  })
}
