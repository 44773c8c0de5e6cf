import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { REPO_ROOT } from '@hivesight/coordinator'
import type { LossRow } from '../src/loss/loss-run.ts'

const row = (loss: number, variant: string, goodput: number, lost = 0): LossRow => ({
  loss, variant, throughput: goodput, goodput, submitted: 10, accepted: 10, completed: 10 - lost, lost, duplicated: 0, unacknowledgedJobs: 0,
  accuracy: 0.8, avgExecutionS: 0.1, completedPerS: goodput, latencyMs: { p50: 100, p95: 200, p99: 300 }, attempts: 10, bytesPerImage: 30_000, shrunk: 0, uploadPhaseS: 10 / goodput,
})

test('eval:report gathers the saved results into one report with plots, says what was not run and whether the loss goals are met', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'hivesight-report-'))
  try {
    const save = (name: string, data: object) => writeFileSync(join(dir, `${name}.json`), JSON.stringify({ command: `eval:${name}`, at: '2026-11-30T10:00:00.000Z', args: [], data }))
    save('loss', { rows: [row(0, 'ours', 40), row(0.6, 'ours', 0.7, 1)], seedLike: [row(0.6, 'student client', 0.1)], bothWays: false, linkMbit: 100, imagesPerRate: 10 })
    const step = { mode: 'open', offered: 5, achieved: 5, trips: 20, throughput: 5, goodput: 5, p50: 80, p95: 120, p99: 150, s429: 0, s503: 0, failed: 0, errors: {} }
    save('load', { steps: [step], knees: { open: step, closed: null } })
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'evaluation/src/report/cli.ts', '--no-figures'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 50_000, env: { ...process.env, HIVESIGHT_RESULTS_DIR: dir } })
    assert.equal(r.status, 0, r.stderr)
    const md = readFileSync(join(dir, 'report.md'), 'utf8')
    assert.match(md, /\| 0\.6 \| student client \| 0\.10 \|/)
    assert.match(md, /0\.6: 1\.7×/, 'our goodput over the published 0.41')
    assert.match(md, /0 duplicated at every rate: \*\*not met\*\*/, 'one image lost at 0.6')
    assert.match(md, /twice the published goodput at 0\.4–0\.6: \*\*not met\*\*/)
    assert.match(md, /knee \(open loop\): 5\/s/)
    assert.match(md, /## Fault suite\n\nNot run yet/)
    assert.match(r.stdout, /2 of 9 commands have results/)
    assert.ok(statSync(join(dir, 'report-vs-student.svg')).size > 1000)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
