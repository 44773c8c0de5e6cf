import { overlappingHolds, signedIndex, type Hold } from '../cluster/holds.ts'

/** One logical upload: its Idempotency-Key and the job ids of every 202 the clients got for it. */
export interface Upload {
  key: string
  acks: string[][]
}

export interface FaultRecord {
  name: string
  /** From the fault's start until the rig was whole again (all nodes synced / the coordinator ready) and an upload was acknowledged. */
  recoveredInS: number
  /** The longest stretch with no upload acknowledged, from the fault's start on. */
  longestStallS?: number
  notes?: string[]
}

export interface HostsVerdict {
  acknowledged: number
  lost: number
  duplicated: number
  heldTwice: number
  /** Results stored from a lease that was not the job's last one (a fenced lease's answer accepted). */
  fencedAccepted: number
  faults: FaultRecord[]
  ok: boolean
}

/**
 * Pure: the invariants over a run's recorded history. `acknowledged` jobs (in some 202) must each have
 * ended `succeeded` in the shared database (`statusOf`); one key must always have been answered with the
 * same set of jobs; no job may have been held by two workers at once (`holds`, one clock for the fleet);
 * no stored result may come from a lease other than the job's last (`answers`).
 */
export function checkRun(uploads: Upload[], statusOf: Map<string, string>, holds: Hold[], faults: FaultRecord[], answers: SignedAnswer[] = []): HostsVerdict {
  const ids = new Set<string>()
  let duplicated = 0
  for (const u of uploads) {
    if (new Set(u.acks.map((a) => [...a].sort().join(','))).size > 1) duplicated++
    for (const a of u.acks) for (const id of a) ids.add(id)
  }
  let lost = 0
  for (const id of ids) if (statusOf.get(id) !== 'succeeded') lost++
  const heldTwice = overlappingHolds(holds).length
  const fencedAccepted = fencedAnswers(answers)
  return { acknowledged: ids.size, lost, duplicated, heldTwice, fencedAccepted, faults, ok: lost === 0 && duplicated === 0 && heldTwice === 0 && fencedAccepted === 0 }
}

/** A succeeded job answered by a signing simulated worker: the job's last lease token and the index its stored result carries. */
export interface SignedAnswer {
  jobId: string
  leaseToken: number
  top1: number
}

/**
 * Pure: stored results that did not come from the job's last lease. A simulated worker answers with its
 * lease's token as the class index (`signedIndex`); once a job succeeded nothing leases it again, so its
 * stored index must be its last token. A late answer from a lease that was taken back and given to
 * another worker would carry an older one.
 */
export function fencedAnswers(answers: SignedAnswer[]): number {
  return answers.filter((a) => a.top1 !== signedIndex(a.leaseToken)).length
}

/** Pure: the longest gap between consecutive acknowledgement times (ms) inside [from, to]. */
export function longestGapMs(ackTimes: number[], from: number, to: number): number {
  const inside = ackTimes.filter((t) => t >= from && t <= to).sort((a, b) => a - b)
  let prev = from
  let gap = 0
  for (const t of [...inside, to]) {
    gap = Math.max(gap, t - prev)
    prev = t
  }
  return gap
}

/** Pure: Galera counters summed over nodes (each a sum over that node's lives). */
export function sumConflicts(perNode: Record<string, { certFailures: number; bfAborts: number }>): { certFailures: number; bfAborts: number } {
  let certFailures = 0
  let bfAborts = 0
  for (const c of Object.values(perNode)) {
    certFailures += c.certFailures
    bfAborts += c.bfAborts
  }
  return { certFailures, bfAborts }
}
