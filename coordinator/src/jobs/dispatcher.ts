/** A worker's free slots, and the model versions it holds loaded. */
export interface FreeSlots { workerId: string; free: number; warm?: ReadonlySet<string> }

/**
 * Pure: spread claimed jobs (already in priority order) over free worker slots. A job goes to a worker
 * that holds its model version loaded, or that this plan already sends that version to (so a cold version
 * is loaded by one page, not by every page at once); among those, and otherwise among all, to the one with
 * the most free slots left, so a burst is shared instead of filling the first worker.
 */
export function planAssignments(free: FreeSlots[], jobs: { id: string; model: string }[]): Map<string, string[]> {
  const left = free.map((f) => ({ ...f, planned: new Set<string>() }))
  const plan = new Map<string, string[]>()
  for (const job of jobs) {
    let best: (typeof left)[number] | undefined
    let bestHot = false
    for (const f of left) {
      if (f.free <= 0) continue
      const hot = f.warm?.has(job.model) === true || f.planned.has(job.model)
      if (!best || (hot && !bestHot) || (hot === bestHot && f.free > best.free)) {
        best = f
        bestHot = hot
      }
    }
    if (!best) break
    best.free--
    best.planned.add(job.model)
    const list = plan.get(best.workerId) ?? []
    list.push(job.id)
    plan.set(best.workerId, list)
  }
  return plan
}
