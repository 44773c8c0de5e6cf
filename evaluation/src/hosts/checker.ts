import { overlappingHolds, type Hold } from '../cluster/holds.ts'

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
  faults: FaultRecord[]
  ok: boolean
}

/**
 * Pure: the invariants over a run's recorded history. `acknowledged` jobs (in some 202) must each have
 * ended `succeeded` in the shared database (`statusOf`); one key must always have been answered with the
 * same set of jobs; no job may have been held by two workers at once (`holds`, one clock for the fleet).
 */
export function checkRun(uploads: Upload[], statusOf: Map<string, string>, holds: Hold[], faults: FaultRecord[]): HostsVerdict {
  const ids = new Set<string>()
  let duplicated = 0
  for (const u of uploads) {
    if (new Set(u.acks.map((a) => [...a].sort().join(','))).size > 1) duplicated++
    for (const a of u.acks) for (const id of a) ids.add(id)
  }
  let lost = 0
  for (const id of ids) if (statusOf.get(id) !== 'succeeded') lost++
  const heldTwice = overlappingHolds(holds).length
  return { acknowledged: ids.size, lost, duplicated, heldTwice, faults, ok: lost === 0 && duplicated === 0 && heldTwice === 0 }
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
