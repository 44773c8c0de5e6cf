/**
 * wasm threads for a page. The runtime says how many (it sizes pages × threads to the cores it may use);
 * a volunteer tab leaves half its cores to its owner. Without cross-origin isolation there is one.
 */
export function chooseThreads(asked: string | null, isolated: boolean, cores: number): number {
  if (!isolated) return 1
  const n = Number(asked)
  if (asked && Number.isInteger(n) && n >= 1) return Math.min(n, 16)
  return Math.max(1, Math.min(4, Math.floor(cores / 2)))
}
