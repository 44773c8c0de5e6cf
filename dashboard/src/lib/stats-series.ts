import type { StatsPoint } from '@hivesight/protocol'

// Pure: the Overview's figures over time, from the coordinator's history (on connect) and its live ticks.

/** As much as the coordinator keeps (its `history` event says; this until it has). */
export const DEFAULT_WINDOW_MS = 15 * 60_000
/** The narrowest time axis: with a point or none, the last minute rather than a degenerate scale. */
export const MIN_SPAN_S = 60

/** One column per series, as uPlot takes them; `at` in epoch seconds. */
export interface Columns {
  at: number[]
  imagesPerSecond: number[]
  p50: (number | null)[]
  p95: (number | null)[]
  queued: number[]
  workers: number[]
}

/**
 * `known` and `incoming` as one list, oldest first, one point per timestamp (a point seen twice, in the
 * history and live, counts once; the later copy wins), none older than `windowMs` before the newest.
 */
export function mergePoints(known: readonly StatsPoint[], incoming: readonly StatsPoint[], windowMs = DEFAULT_WINDOW_MS): StatsPoint[] {
  const last = known.at(-1)
  let merged: StatsPoint[]
  if (last && incoming.every((p, i) => p.at > (i === 0 ? last.at : incoming[i - 1]!.at))) {
    merged = [...known, ...incoming] // the usual case, a live tick: no sort
  } else {
    const byAt = new Map<number, StatsPoint>()
    for (const p of known) byAt.set(p.at, p)
    for (const p of incoming) byAt.set(p.at, p)
    merged = [...byAt.values()].sort((a, b) => a.at - b.at)
  }
  const newest = merged.at(-1)
  if (!newest) return merged
  const from = newest.at - windowMs
  const first = merged.findIndex((p) => p.at >= from)
  return first <= 0 ? merged : merged.slice(first)
}

export function columns(points: readonly StatsPoint[]): Columns {
  return {
    at: points.map((p) => p.at / 1000),
    imagesPerSecond: points.map((p) => p.imagesPerSecond),
    p50: points.map((p) => p.latencyMs.p50),
    p95: points.map((p) => p.latencyMs.p95),
    queued: points.map((p) => p.queued),
    workers: points.map((p) => p.workers),
  }
}

/**
 * The time axis in epoch seconds: from the first point to the last, at least `MIN_SPAN_S` wide (ending at
 * the last point, or at `nowS` when there is none). uPlot's own range for one point or none is degenerate
 * (around 0, which labels every tick "12:00:00 AM", the epoch in local time).
 */
export function timeRange(at: readonly number[], nowS: number): [number, number] {
  const end = at.at(-1) ?? nowS
  const start = Math.min(at[0] ?? end, end - MIN_SPAN_S)
  return [start, end]
}

/** A tick's label: hh:mm:ss, 24-hour, in the viewer's time zone. */
export function timeLabel(epochS: number, timeZone?: string): string {
  return new Date(epochS * 1000).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', ...(timeZone ? { timeZone } : {}) })
}
