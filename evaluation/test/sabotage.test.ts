import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { runSabotage } from '../src/sabotage/sabotage-sim.ts'

const base = { volunteers: 200, trusted: 4, saboteurs: 0.2, lieRate: 0.3, jobs: 10_000, seed: 7 }

test('the default policy (quorum + spot checks) meets the goal at 20 % saboteurs lying on 30 % of their jobs', { timeout: 60_000 }, () => {
  const r = runSabotage({ ...base, policy: 'quorum', spotChecks: true })
  assert.equal(r.unfinished, 0)
  assert.ok(r.wrongAccepted <= 0.005, `wrongly accepted ${r.wrongAccepted}`)
  assert.ok(r.overhead <= 2.2, `overhead ${r.overhead}`)
  assert.ok(r.quarantined >= r.saboteurs * 0.8, `quarantined ${r.quarantined} of ${r.saboteurs}`)
  assert.equal(r.honestQuarantined, 0)
})

test('the simulation can see sabotage: believing volunteers accepts lies, spot checks alone miss some', { timeout: 60_000 }, () => {
  const believe = runSabotage({ ...base, policy: 'accept', spotChecks: false })
  const spotOnly = runSabotage({ ...base, policy: 'accept', spotChecks: true })
  assert.ok(believe.wrongAccepted > 0.02, `believe: ${believe.wrongAccepted}`)
  assert.equal(believe.overhead, 1)
  assert.ok(spotOnly.wrongAccepted > 0 && spotOnly.wrongAccepted < believe.wrongAccepted, `spot only: ${spotOnly.wrongAccepted}`)
  assert.ok(spotOnly.quarantined > 0)
})

test('npm run eval:sabotage ends with the figures as one JSON line', { timeout: 60_000 }, () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'evaluation/src/sabotage/cli.ts', '--jobs', '2000', '--no-sweep'], { encoding: 'utf8', timeout: 50_000 })
  assert.equal(r.status, 0, r.stderr)
  const last = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, number>
  assert.deepEqual(Object.keys(last).sort(), ['jobs', 'overhead', 'quarantined', 'wrongAccepted'])
  assert.equal(last.jobs, 2000)
  const bad = spawnSync(process.execPath, ['--import', 'tsx', 'evaluation/src/sabotage/cli.ts', '--saboteurs', '2'], { encoding: 'utf8', timeout: 50_000 })
  assert.equal(bad.status, 2)
  assert.match(bad.stderr, /--saboteurs must be a number from 0 to 1/)
})
