/**
 * Pure: spread claimed jobs (already in priority order) over free worker slots. Each job goes to the
 * worker with the most free slots left, so a burst is shared instead of filling the first worker.
 */
export function planAssignments(free: { workerId: string; free: number }[], jobIds: string[]): Map<string, string[]> {
  const left = free.map((f) => ({ ...f }))
  const plan = new Map<string, string[]>()
  for (const jobId of jobIds) {
    let best: { workerId: string; free: number } | undefined
    for (const f of left) if (f.free > 0 && (!best || f.free > best.free)) best = f
    if (!best) break
    best.free--
    const list = plan.get(best.workerId) ?? []
    list.push(jobId)
    plan.set(best.workerId, list)
  }
  return plan
}
