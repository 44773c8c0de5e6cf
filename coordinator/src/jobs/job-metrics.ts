/** What the job lifecycle reports; metrics/prometheus-metrics.ts implements it (jobs/ knows no metrics library). */
export interface JobMetrics {
  imagesAccepted(n: number): void
  /** Seconds each job waited in the queue before its lease. */
  dispatched(queueWaitSeconds: number[]): void
  finished(outcome: 'succeeded' | 'failed' | 'dead' | 'canceled', endToEndSeconds?: number): void
  staleAnswer(): void
  leasesTakenBack(requeued: number, dead: number): void
  workerTimings(decodeMs: number, inferMs: number): void
}

export const noMetrics: JobMetrics = {
  imagesAccepted: () => undefined,
  dispatched: () => undefined,
  finished: () => undefined,
  staleAnswer: () => undefined,
  leasesTakenBack: () => undefined,
  workerTimings: () => undefined,
}
