import type { JobView } from '@hivesight/protocol'

/** One logical upload as the client saw it: its Idempotency-Key and every 202 it got for that key. */
export interface AckedUpload {
  key: string
  acks: string[][]
}

export interface HistoryCheck {
  uploads: number
  jobs: number
  /** acknowledged (202) but with no final state after the drain */
  lost: number
  /** logical uploads whose retries created more than one set of jobs */
  duplicated: number
  /**
   * Final jobs whose state and stored result disagree: succeeded without a result, or failed, dead or
   * canceled with one. A job has one result column, so "more than one result" cannot be stored; a second
   * accepted answer would replace the first, which is what `overwrites` looks for.
   */
  noResult: number
  /**
   * Succeeded jobs whose stored answer is not the one of their final attempt. Only measurable when each
   * attempt answers differently (simulated workers answer class = attempt number); two Chromium answers
   * for one image are the same class, so with real workers an overwrite cannot be seen.
   */
  overwrites: number
  byStatus: Record<string, number>
}

const FINAL = new Set(['succeeded', 'failed', 'canceled', 'dead'])

/**
 * Like Jepsen's queue checker, over the whole history of a run. `finals` holds each acknowledged job as
 * the API reports it after the run; `expectedWnid(attempt)` is what the (simulated) worker answered on
 * that attempt, so an answer from any other attempt shows up as an overwrite.
 */
export function checkHistory(uploads: AckedUpload[], finals: Map<string, JobView | undefined>, expectedWnid?: (attempt: number) => string): HistoryCheck {
  let lost = 0
  let duplicated = 0
  let noResult = 0
  let overwrites = 0
  const byStatus: Record<string, number> = {}
  const ids = new Set<string>()
  for (const u of uploads) {
    const sets = new Set(u.acks.map((a) => a.join(',')))
    if (sets.size > 1) duplicated++
    for (const ack of u.acks) for (const id of ack) ids.add(id)
  }
  for (const id of ids) {
    const job = finals.get(id)
    const status = job?.status ?? 'missing'
    byStatus[status] = (byStatus[status] ?? 0) + 1
    if (!job || !FINAL.has(job.status)) {
      lost++
      continue
    }
    // A stored result for a succeeded job, none for any other final state.
    if ((job.status === 'succeeded') !== (job.result !== null && job.result.predictions.length > 0)) {
      noResult++
      continue
    }
    // The stored answer must come from the attempt that holds the final lease, never from a late one.
    if (job.status === 'succeeded' && expectedWnid && job.result!.predictions[0]!.wnid !== expectedWnid(job.attempts)) overwrites++
  }
  return { uploads: uploads.length, jobs: ids.size, lost, duplicated, noResult, overwrites, byStatus }
}
