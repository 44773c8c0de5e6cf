import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { REPO_ROOT } from '@hivesight/coordinator'
import type { ModelBenchFigures } from '../src/bench/model-repository.ts'

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

test('npm run bench -- --only models --quick: one vs two models on the same pages, time to ready, Chromium memory, saved', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'hivesight-bench-'))
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'evaluation/src/bench/cli.ts', '--only', 'models', '--quick'], {
      cwd: REPO_ROOT, encoding: 'utf8', timeout: 100_000, env: { ...process.env, HIVESIGHT_RESULTS_DIR: dir },
    })
    assert.equal(r.status, 0, `${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`)
    const line = r.stdout.split('\n').find((l) => l.startsWith('{"type":"bench.models"'))
    assert.ok(line, 'one JSON line with the figures')
    const saved = JSON.parse(readFileSync(join(dir, 'bench.json'), 'utf8')) as { data: { failed: string[]; models: ModelBenchFigures } }
    assert.deepEqual(saved.data.failed, [])
    const m = saved.data.models
    assert.deepEqual(JSON.parse(line) as unknown, { type: 'bench.models', ...m })
    assert.equal(m.oneModelPerSecond.length, 2, 'A B A B: two rounds')
    // Quick passes are a second or so: the 0.9 goal is for full runs; here a thrashing page (a reload per job) would show.
    assert.ok(m.ratio > 0.5, `two/one ${m.ratio}`)
    assert.ok(m.answers.compared > 0 && m.answers.same === m.answers.compared, JSON.stringify(m.answers))
    assert.deepEqual(m.heldBy, { mobilenet: 2, second: 2 }, 'both pages hold both versions')
    for (const ready of [m.readyMs.teachable, m.readyMs.mobilenet]) assert.ok(ready.wallMs > 0 && ready.serverMs >= 0 && ready.smoke, JSON.stringify(ready))
    assert.ok(m.pssMiB.oneModel.totalMiB > 100 && m.pssMiB.twoModels.totalMiB > m.pssMiB.oneModel.totalMiB, JSON.stringify(m.pssMiB))
    assert.match(r.stdout, /two\/one \d\.\d\d/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
