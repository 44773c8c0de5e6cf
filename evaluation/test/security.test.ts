import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatSecurityTable, runSecuritySuite } from '../src/security/security-run.ts'

// Issue #5's proof: every attack against a real coordinator process with a real Chromium worker, several
// rounds, each outcome exact; 0 5xx, 0 crashes, 0 error logs, and memory that stops growing after warm-up.
const ROUNDS = 3
// RSS after warm-up may move by allocator noise; a leak of a few KiB per request over ~400 requests and
// hundreds of sockets would show well above this.
const MAX_GROWTH_MIB = 32

test(`the attack suite, ${ROUNDS} rounds: every outcome as promised, no 5xx, no crash, bounded memory`, async () => {
  const report = await runSecuritySuite({ rounds: ROUNDS, log: () => undefined, progress: false })
  console.log(formatSecurityTable(report).split('\n').map((l) => `# ${l}`).join('\n'))
  const failures = report.rows.flatMap((r) => r.failures.map((f) => `${r.attack.id} ${r.attack.title}: ${f}`))
  assert.deepEqual(failures, [])
  assert.equal(report.serverErrors, 0, '5xx answers')
  assert.ok(report.survived, 'the coordinator survived and answers /healthz')
  assert.deepEqual(report.errorLogs, [], 'error-level log lines')
  assert.ok(report.growthMiB < MAX_GROWTH_MIB, `RSS grew by ${report.growthMiB.toFixed(1)} MiB after warm-up (${report.rssMiB.map((m) => m.toFixed(0)).join(' → ')})`)
})
