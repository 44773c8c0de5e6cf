export interface Clock {
  now(): number
}
export const systemClock: Clock = { now: () => Date.now() }

/** A host clock that is off by `skewMs` (a test's stand-in for a badly set machine clock). */
export function skewedClock(skewMs: number): Clock {
  return skewMs === 0 ? systemClock : { now: () => Date.now() + skewMs }
}

/** A clock tests move by hand. */
export class FakeClock implements Clock {
  constructor(private t = 0) {}
  now(): number {
    return this.t
  }
  advance(ms: number): void {
    this.t += ms
  }
}

/**
 * The database's clock, read through this host's: lease and liveness times are written by several
 * coordinators and compared by others, so they must all come from one clock. `sync` measures the offset
 * (the sample with the shortest round trip of the last few wins: its midpoint is the most exact).
 */
export class SyncedClock implements Clock {
  private offsetMs = 0
  private samples: { rttMs: number; offsetMs: number }[] = []

  constructor(private readonly host: Clock, private readonly readDatabaseMs: () => Promise<number | null>, private readonly keep = 8) {}

  now(): number {
    return this.host.now() + this.offsetMs
  }

  get offset(): number {
    return this.offsetMs
  }

  async sync(): Promise<void> {
    const t0 = this.host.now()
    const db = await this.readDatabaseMs()
    const t1 = this.host.now()
    if (db === null) return
    this.samples = [...this.samples, { rttMs: t1 - t0, offsetMs: db - (t0 + t1) / 2 }].slice(-this.keep)
    this.offsetMs = bestOffset(this.samples)
  }
}

/** Pure: the offset measured with the shortest round trip. */
export function bestOffset(samples: { rttMs: number; offsetMs: number }[]): number {
  let best = samples[0]
  for (const s of samples) if (best === undefined || s.rttMs < best.rttMs) best = s
  return Math.round(best?.offsetMs ?? 0)
}
