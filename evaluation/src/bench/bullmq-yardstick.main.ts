// A quick look at the BullMQ yardstick on its own, without the rest of the bench:
//   node --import tsx evaluation/src/bench/bullmq-yardstick.main.ts
// It exits by itself: a hang here means the module left a handle open.
import { bullmqLatencyAtRate, bullmqThroughput, DEFAULT_REDIS_URL, redisReachable } from './bullmq-yardstick.ts'

if (!(await redisReachable(DEFAULT_REDIS_URL))) {
  console.log(`BullMQ skipped: Redis not reachable at ${DEFAULT_REDIS_URL}`)
} else {
  const t = await bullmqThroughput({ jobs: 30_000, concurrency: 50 })
  console.log(`BullMQ throughput: ${t.jobs} no-op jobs, concurrency 50: ${t.jobsPerSecond.toFixed(0)} jobs/s processed, addBulk ${t.addBulkPerSecond.toFixed(0)} jobs/s`)
  for (const perSecond of [500, 2_000]) {
    const l = await bullmqLatencyAtRate({ perSecond, seconds: 5, concurrency: 50 })
    console.log(
      `BullMQ add→processor start at ${l.targetPerSecond}/s for 5 s: achieved ${l.achievedPerSecond.toFixed(0)}/s, p50 ${l.p50Ms.toFixed(2)} ms, p99 ${l.p99Ms.toFixed(2)} ms (${l.samples} jobs)`,
    )
  }
}
