import { median } from '../stats/median.ts'
import type { Writers } from './rig.ts'

export interface ModeFigures {
  writers: Writers
  /** jobs/s of each round, in run order */
  jobsPerS: number[]
  median: number
  /** median / plain MariaDB's median (1 for plain itself) */
  ratioToPlain: number | null
}

/** Pure: the order of the comparison's runs: every mode once per round, rotated so no mode always runs first. */
export function compareSchedule(modes: Writers[], rounds: number): Writers[] {
  return Array.from({ length: rounds }, (_, r) => modes.map((_, i) => modes[(i + r) % modes.length]!)).flat()
}

/** Pure: per mode the rounds' jobs/s, their median and the ratio to one plain MariaDB. */
export function summarizeCompare(runs: { writers: Writers; jobsPerS: number }[]): ModeFigures[] {
  const modes = [...new Set(runs.map((r) => r.writers))]
  const medians = new Map(modes.map((m) => [m, median(runs.filter((r) => r.writers === m).map((r) => r.jobsPerS))]))
  const plain = medians.get('plain')
  return modes.map((m) => ({
    writers: m,
    jobsPerS: runs.filter((r) => r.writers === m).map((r) => r.jobsPerS),
    median: round(medians.get(m)!),
    ratioToPlain: plain ? Math.round((medians.get(m)! / plain) * 100) / 100 : null,
  }))
}

const round = (x: number) => Math.round(x * 10) / 10
