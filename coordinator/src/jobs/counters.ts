/** What one coordinator has done since it started (tests and the bench read them; /metrics has its own). */
export interface DispatchCounters {
  dispatched: number
  completed: number
  failed: number
  staleResults: number
  requeuedLostLeases: number
  deadJobs: number
  bufferedResults: number
}

export function newCounters(): DispatchCounters {
  return { dispatched: 0, completed: 0, failed: 0, staleResults: 0, requeuedLostLeases: 0, deadJobs: 0, bufferedResults: 0 }
}
