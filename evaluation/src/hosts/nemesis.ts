import type { FaultRecord } from './checker.ts'
import { longestGapMs } from './checker.ts'
import { injectFault, type FaultName } from './faults.ts'
import type { Rig } from './rig.ts'
import { sleep, waitFor } from './sh.ts'

export interface LoadView {
  /** performance.now() of every first 202, in order. */
  ackTimes: number[]
  /** True once the clients acknowledged everything they started. */
  loadDone: () => boolean
}

/**
 * The faults of one run, one after another while the load goes on (Jepsen's nemesis): the first once
 * `startWhen()` holds, each next one `gapMs` after the one before recovered. A fault has recovered when
 * the rig is whole again and an upload was acknowledged after that.
 */
export async function runNemesis(rig: Rig, faults: FaultName[], load: LoadView, startWhen: () => boolean, log: (m: string) => void, gapMs = 3_000): Promise<FaultRecord[]> {
  const records: FaultRecord[] = []
  if (faults.length === 0) return records
  await waitFor('the load to warm up', 600_000, () => startWhen() || load.loadDone(), 100)
  for (const [i, name] of faults.entries()) {
    if (i > 0) await sleep(gapMs)
    const at = performance.now()
    const o = await injectFault(rig, name, log)
    const { ackTimes } = load
    await waitFor('an upload acknowledged after the fault', 60_000, () => ackTimes.some((t) => t > o.healedAt) || load.loadDone(), 100).catch(() => undefined)
    const after = ackTimes.find((t) => t > o.healedAt) ?? performance.now()
    const end = Math.max(after, o.healedAt)
    // A stall only while the load still ran (it may have ended before the rig was whole).
    const loadEnd = load.loadDone() ? Math.max(...ackTimes) : end
    records.push({ name, recoveredInS: round((end - at) / 1000), longestStallS: round(longestGapMs(ackTimes, at, Math.min(end, loadEnd)) / 1000), notes: o.notes })
  }
  return records
}

const round = (x: number) => Math.round(x * 10) / 10
