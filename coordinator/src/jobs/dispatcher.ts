/** A worker's free slots, and the model versions it holds loaded. */
export interface FreeSlots { workerId: string; free: number; warm?: ReadonlySet<string> }

/**
 * Pure: spread claimed jobs (already in priority order) over free worker slots. A job goes to a worker
 * that holds its model version loaded if one has a free slot (so pages do not load and evict versions in
 * turn); among those, and otherwise among all, to the one with the most free slots left, so a burst is
 * shared instead of filling the first worker. A worker that says nothing of its models counts as warm.
 */
export function planAssignments(free: FreeSlots[], jobs: { id: string; model: string }[]): Map<string, string[]> {
  const left = free.map((f) => ({ ...f }))
  const plan = new Map<string, string[]>()
  for (const job of jobs) {
    let best: (typeof left)[number] | undefined
    let bestHot = false
    for (const f of left) {
      if (f.free <= 0) continue
      const hot = f.warm === undefined || f.warm.has(job.model)
      if (!best || (hot && !bestHot) || (hot === bestHot && f.free > best.free)) {
        best = f
        bestHot = hot
      }
    }
    if (!best) break
    best.free--
    const list = plan.get(best.workerId) ?? []
    list.push(job.id)
    plan.set(best.workerId, list)
  }
  return plan
}
