import { parseArgs } from 'node:util'
import { parseFaults, type FaultName } from './faults.ts'
import { leftBehindByLastRun, runHosts, type HostsRunResult } from './run.ts'

// `npm run eval:hosts [-- --faults galera-node-kill,galera-partition,coordinator-kill,clock-skew|all|none --jobs N --writers multi|single --sync-wait 1]`
// As root: a 3-node MariaDB Galera cluster, 2 coordinators and HAProxy, each in its own network
// namespace on one bridge; one run per fault; one JSON line at the end; exit 1 when an invariant breaks.
const { values } = parseArgs({
  options: {
    faults: { type: 'string', default: 'galera-node-kill' },
    jobs: { type: 'string', default: '4000' },
    writers: { type: 'string', default: 'multi' },
    'sync-wait': { type: 'string', default: '1' },
  },
})
const faults: (FaultName | null)[] = parseFaults(values.faults)
const writers = values.writers === 'single' ? 'single' : 'multi'
const runs: HostsRunResult[] = []
for (const fault of faults) {
  console.log(`eval:hosts: ${fault ?? 'no fault'}, ${values.jobs} jobs, ${writers}-writer`)
  const r = await runHosts({ fault, jobs: Number(values.jobs), imagesPerRequest: 5, workers: 6, slots: 4, writers, syncWait: Number(values['sync-wait']), log: (m) => console.log(`  ${m}`) })
  r.leftBehind = leftBehindByLastRun()
  console.log(`  ${JSON.stringify(r)}`)
  runs.push(r)
}
const sum = (k: 'acknowledged' | 'lost' | 'duplicated' | 'heldTwice') => runs.reduce((s, r) => s + r[k], 0)
const galera = {
  writers,
  certFailures: runs.reduce((s, r) => s + Number(r.galera.certFailures ?? 0), 0),
  bfAborts: runs.reduce((s, r) => s + Number(r.galera.bfAborts ?? 0), 0),
  jobsPerS: runs.map((r) => r.jobsPerS),
  syncWait: Number(values['sync-wait']),
}
const line = { acknowledged: sum('acknowledged'), lost: sum('lost'), duplicated: sum('duplicated'), heldTwice: sum('heldTwice'), faults: runs.flatMap((r) => r.faults), galera, leftBehind: runs.flatMap((r) => r.leftBehind) }
console.log(JSON.stringify(line))
process.exit(line.lost === 0 && line.duplicated === 0 && line.heldTwice === 0 && line.leftBehind.length === 0 ? 0 : 1)
