// Who answers in the sabotage simulation: honest workers give the true answer (a Firefox tab and Chromium
// pages agreed on 600 of 600 images), saboteurs lie in three ways.

/** A seeded generator (mulberry32): the same seed gives the same run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * steady: lies at the given rate from the start, each lie a random class.
 * sleeper: honest for its first 60 answers (past the new-worker checks), then lies like steady.
 * colluding: all colluders lie on the same jobs (a shared coin per job) with the same wrong class, so two
 *   of them confirming each other is the attack a quorum alone cannot see.
 */
export type Behaviour = 'honest' | 'steady' | 'sleeper' | 'colluding'
export const SABOTEUR_KINDS: Behaviour[] = ['steady', 'sleeper', 'colluding']
const SLEEPER_HONEST_ANSWERS = 60

export interface SimJob {
  id: number
  truth: number
  /** The true top-1 score's lead over the runner-up (decides whether it can become a known answer). */
  margin: number
}

/** A stable coin per job, shared by every colluder. */
function sharedCoin(jobId: number): number {
  return seededRandom(jobId * 7919 + 17)()
}

const wrongClass = (truth: number, random: () => number) => 1 + ((truth - 1 + 1 + Math.floor(random() * 998)) % 1000)

/** The top-1 a worker of this behaviour gives for a job, after `answered` earlier answers. */
export function answerOf(behaviour: Behaviour, job: SimJob, answered: number, lieRate: number, random: () => number): number {
  switch (behaviour) {
    case 'honest':
      return job.truth
    case 'steady':
      return random() < lieRate ? wrongClass(job.truth, random) : job.truth
    case 'sleeper':
      return answered >= SLEEPER_HONEST_ANSWERS && random() < lieRate ? wrongClass(job.truth, random) : job.truth
    case 'colluding':
      return sharedCoin(job.id) < lieRate ? (job.truth % 1000) + 1 : job.truth
  }
}
