import { parseArgs } from 'node:util'
import { compareSchedule, summarizeCompare } from './compare.ts'
import { GALERA_FAULTS, parseFaults, type FaultName } from './faults.ts'
import type { Writers } from './rig.ts'
import { refusedWithoutRetryAfter } from './upload-clients.ts'
import { leftBehindByLastRun, runHosts, type HostsRunResult } from './run.ts'

// `npm run eval:hosts [-- --faults galera-node-kill,…|all|none --mixed --jobs N --writers multi|single|plain --sync-wait 1 --runtimes 2 --runtime-cores 0.25 --db-latency-ms 2]`
// `npm run eval:hosts -- --compare [--rounds 2 --jobs 3000]`: plain MariaDB, Galera single- and multi-writer, no fault, in one run.
// As root: Galera nodes, coordinators, HAProxy, worker and client hosts, each in its own network namespace
// on one bridge; one run per fault (or all of them in one run with --mixed); one JSON line at the end;
// exit 1 when an invariant breaks.
const { values } = parseArgs({
  options: {
    faults: { type: 'string', default: 'galera-node-kill' },
    mixed: { type: 'boolean', default: false },
    compare: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '2' },
    jobs: { type: 'string', default: '4000' },
    writers: { type: 'string', default: 'multi' },
    'sync-wait': { type: 'string', default: '1' },
    runtimes: { type: 'string', default: '2' },
    'runtime-cores': { type: 'string', default: '0.25' },
    'db-latency-ms': { type: 'string', default: '2' },
  },
})
const writers: Writers = values.writers === 'single' || values.writers === 'plain' ? values.writers : 'multi'
const chosen = parseFaults(values.faults).filter((f): f is FaultName => f !== null)
const plan: { writers: Writers; faults: FaultName[] }[] = values.compare
  ? compareSchedule(['plain', 'single', 'multi'], Number(values.rounds)).map((w) => ({ writers: w, faults: [] }))
  : values.mixed
    ? [{ writers, faults: chosen }]
    : parseFaults(values.faults).map((f) => ({ writers, faults: f ? [f] : [] }))
if (writers === 'plain' && chosen.some((f) => GALERA_FAULTS.includes(f)) && !values.compare) {
  console.error(`eval:hosts: ${chosen.filter((f) => GALERA_FAULTS.includes(f)).join(', ')} need Galera (--writers multi or single)`)
  process.exit(2)
}
const runs: HostsRunResult[] = []
for (const [i, p] of plan.entries()) {
  console.log(`eval:hosts: run ${i + 1}/${plan.length}: ${p.faults.length ? p.faults.join(' + ') : 'no fault'}, ${values.jobs} jobs${p.faults.length > 1 ? ' at least' : ''}, ${p.writers === 'plain' ? 'one plain MariaDB' : `Galera ${p.writers}-writer`}`)
  const r = await runHosts({ faults: p.faults, jobs: Number(values.jobs), imagesPerRequest: 5, workers: 6, slots: 4, runtimes: Number(values.runtimes), runtimeCores: Number(values['runtime-cores']), dbLatencyMs: Number(values['db-latency-ms']), writers: p.writers, syncWait: Number(values['sync-wait']), log: (m) => console.log(`  ${m}`) })
  r.leftBehind = leftBehindByLastRun()
  console.log(`  ${JSON.stringify(r)}`)
  runs.push(r)
}
const sum = (k: 'acknowledged' | 'lost' | 'duplicated' | 'heldTwice' | 'fencedAccepted') => runs.reduce((s, r) => s + r[k], 0)
const noRetryAfter = runs.reduce((s, r) => s + refusedWithoutRetryAfter(r.clientSaw), 0)
const galera = {
  writers: values.compare ? 'compare' : writers,
  certFailures: runs.reduce((s, r) => s + Number(r.galera.certFailures ?? 0), 0),
  bfAborts: runs.reduce((s, r) => s + Number(r.galera.bfAborts ?? 0), 0),
  jobsPerS: runs.map((r) => r.jobsPerS),
  syncWait: Number(values['sync-wait']),
}
const compare = values.compare ? summarizeCompare(runs) : undefined
if (compare) {
  console.log('\nwriters   jobs/s per round        median   × plain MariaDB')
  for (const m of compare) console.log(`${m.writers.padEnd(9)} ${m.jobsPerS.join(', ').padEnd(23)} ${String(m.median).padEnd(8)} ${m.ratioToPlain ?? '–'}`)
}
const line = {
  acknowledged: sum('acknowledged'), lost: sum('lost'), duplicated: sum('duplicated'), heldTwice: sum('heldTwice'), fencedAccepted: sum('fencedAccepted'),
  faults: runs.flatMap((r) => r.faults), ...(compare ? { compare } : {}), galera, refusedWithoutRetryAfter: noRetryAfter, leftBehind: runs.flatMap((r) => r.leftBehind),
}
console.log(JSON.stringify(line))
process.exit(line.lost === 0 && line.duplicated === 0 && line.heldTwice === 0 && line.fencedAccepted === 0 && noRetryAfter === 0 && line.leftBehind.length === 0 ? 0 : 1)
