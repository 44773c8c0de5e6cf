import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { REPO_ROOT } from '@hivesight/coordinator'

test('npm run bench, short: BullMQ and the SQLite dispatch measured in one run, printed with their ratio, drawn and saved', { timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'hivesight-bench-'))
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'evaluation/src/bench/cli.ts', '--only', 'bullmq,dispatch', '--jobs', '3000', '--dispatch', 'sqlite:1'], {
      cwd: REPO_ROOT, encoding: 'utf8', timeout: 220_000, env: { ...process.env, HIVESIGHT_RESULTS_DIR: dir },
    })
    assert.equal(r.status, 0, r.stderr.slice(-2000))
    const saved = JSON.parse(readFileSync(join(dir, 'bench.json'), 'utf8')) as { data: { summary: { what: string; figure: string; ratio: string }[]; rates: { system: string; perSecond: number }[]; failed: string[] } }
    assert.deepEqual(saved.data.failed, [])
    const bull = saved.data.rates.find((x) => x.system === 'BullMQ (Redis)')
    assert.ok(bull && bull.perSecond > 100, `BullMQ measured: ${JSON.stringify(bull)}`)
    const ours = saved.data.summary.find((x) => /sqlite/i.test(x.what))
    assert.ok(ours, `a SQLite dispatch row: ${JSON.stringify(saved.data.summary)}`)
    assert.match(ours.ratio, /× BullMQ in this run/)
    assert.ok(statSync(join(dir, 'bench.svg')).size > 1000)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
