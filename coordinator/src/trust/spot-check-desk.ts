import { shouldSpotCheck, type SpotCheckPolicy } from './spot-checks.ts'
import type { KnownAnswer } from './known-answers.ts'

interface Issued {
  workerId: string
  identity: string
  expected: number
}

/**
 * Spot checks handed out and not answered yet. A check looks like any job (a time-ordered id, the lease
 * token and attempt of a recent real job, the same kind of frame); only this coordinator knows it is one, so it never touches the database
 * until its answer counts for or against the volunteer.
 */
export class SpotCheckDesk {
  private readonly issued = new Map<string, Issued>()

  constructor(
    private readonly policy: SpotCheckPolicy,
    private readonly random: () => number,
  ) {}

  /** Whether this volunteer's next job is a check (given how many answers it has given). */
  due(answersGiven: number): boolean {
    return shouldSpotCheck(answersGiven, this.random, this.policy)
  }

  /** Registers a check under `id` (a time-ordered id like a real job's: the caller picks its time). */
  issue(workerId: string, identity: string, known: KnownAnswer, id: string): string {
    this.issued.set(id, { workerId, identity, expected: known.top1 })
    return id
  }

  /** The check this answer is for, if it is one (taken: it counts once, and only from the worker it went to). */
  take(jobId: string, workerId: string): Issued | undefined {
    const c = this.issued.get(jobId)
    if (!c || c.workerId !== workerId) return undefined
    this.issued.delete(jobId)
    return c
  }

  /** The worker left: its unanswered checks prove nothing either way. */
  forget(workerId: string): void {
    for (const [id, c] of this.issued) if (c.workerId === workerId) this.issued.delete(id)
  }

  get pending(): number {
    return this.issued.size
  }
}
