export interface Clock {
  now(): number
}
export const systemClock: Clock = { now: () => Date.now() }

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
