import { RecordingWorker, type FleetLog } from '../cluster/recording-worker.ts'
import { simulatedInferenceMs } from './worker-host.ts'

// Runs inside a worker host's namespace (see worker-host.ts): simulated workers connected through the
// balancer, each hold written to stdout as one JSON line in epoch ms (the parent's clock is another
// process's performance.now()).
const [url, count, slots, prefix] = process.argv.slice(2)
const log: FleetLog = { holds: [], assigned: [], canceled: [] }
const workers = Array.from({ length: Number(count) }, (_, i) => new RecordingWorker(`${prefix}${i + 1}`, [url!], log, { slots: Number(slots), latencyMs: simulatedInferenceMs, signAnswers: true }))
let sent = 0
const flush = () => {
  for (; sent < log.holds.length; sent++) {
    const h = log.holds[sent]!
    process.stdout.write(`${JSON.stringify({ ...h, from: performance.timeOrigin + h.from, to: performance.timeOrigin + h.to })}\n`)
  }
}
const timer = setInterval(flush, 200)
process.once('SIGTERM', () => {
  void Promise.all(workers.map((w) => w.stop())).finally(() => {
    clearInterval(timer)
    flush()
    process.stdout.write('', () => process.exit(0))
  })
})
await Promise.all(workers.map((w) => w.start()))
process.stdout.write('{"ready":true}\n')
