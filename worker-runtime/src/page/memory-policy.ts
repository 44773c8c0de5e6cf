/**
 * Pure: whether the inference Web Worker should be replaced by a fresh one. A wasm heap only grows: after
 * versions were evicted, memory they used is not given back to the system, so a page that has cycled
 * through several models keeps their peak. Past `limitBytes`, a new worker (and heap) is the only way back.
 */
export function needsRestart(report: { evicted: number; heapBytes: number }, limitBytes: number): boolean {
  return report.evicted > 0 && report.heapBytes > limitBytes
}
