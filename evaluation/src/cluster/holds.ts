/** A span during which one worker held one job (from its job.assign to its answer, a cancel or its socket's end). */
export interface Hold {
  jobId: string
  worker: string
  from: number
  to: number
}

/** Pure: pairs of holds of the same job by two workers at the same time — a job leased twice at once. */
export function overlappingHolds(holds: Hold[]): [Hold, Hold][] {
  const byJob = new Map<string, Hold[]>()
  for (const h of holds) byJob.set(h.jobId, [...(byJob.get(h.jobId) ?? []), h])
  const out: [Hold, Hold][] = []
  for (const list of byJob.values()) {
    const sorted = [...list].sort((a, b) => a.from - b.from)
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1]!, cur = sorted[i]!
      if (cur.from < prev.to && cur.worker !== prev.worker) out.push([prev, cur])
    }
  }
  return out
}

/**
 * Pure: the class index a signing simulated worker answers with: its lease's fencing token, so the stored
 * result says which lease it came from (a checker compares it with the job's last lease).
 */
export function signedIndex(leaseToken: number): number {
  return leaseToken % 1000
}

/** The score a signing simulated worker gives its answer: how its stored results are told from a real model's. */
export const SIGNED_SCORE = 0.4242
