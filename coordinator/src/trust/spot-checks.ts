// Pure rules for known-answer spot checks (Sarmenta): jobs whose answer is already known, mixed in where a
// volunteer cannot tell them apart, more often while it is new.

export interface SpotCheckPolicy {
  /** Rate while a worker has given fewer than `newAnswers` answers. */
  newRate: number
  newAnswers: number
  /** Rate afterwards (never zero: an honest start buys no lasting licence). */
  steadyRate: number
}

export const DEFAULT_SPOT_CHECKS: SpotCheckPolicy = { newRate: 0.1, newAnswers: 50, steadyRate: 0.02 }
export const NO_SPOT_CHECKS: SpotCheckPolicy = { newRate: 0, newAnswers: 0, steadyRate: 0 }

/**
 * A known answer must survive the small differences between two honest preparations of the same photo
 * (browser and coordinator decoders): only answers whose top-1 leads the runner-up by this much qualify.
 */
export const KNOWN_ANSWER_MIN_MARGIN = 0.2

export function spotCheckRate(answersGiven: number, policy: SpotCheckPolicy = DEFAULT_SPOT_CHECKS): number {
  return answersGiven < policy.newAnswers ? policy.newRate : policy.steadyRate
}

/** Whether the next job this worker gets is a known-answer check. */
export function shouldSpotCheck(answersGiven: number, random: () => number, policy: SpotCheckPolicy = DEFAULT_SPOT_CHECKS): boolean {
  return random() < spotCheckRate(answersGiven, policy)
}

/** Whether a trusted answer (its top-1 score and the runner-up's) may serve as a known answer. */
export function usableAsKnownAnswer(scores: readonly { score: number }[]): boolean {
  const [a, b] = scores
  return a !== undefined && a.score - (b?.score ?? 0) >= KNOWN_ANSWER_MIN_MARGIN
}

/**
 * What a volunteer's answer proves against a reference: a failed known-answer check, or a trusted worker's
 * clear answer (margin as above) that it contradicted, quarantines it; a passed check resets its backlog.
 */
export function quarantines(evidence: { kind: 'check'; expected: number; given: number } | { kind: 'contradicted'; trustedMargin: number }): boolean {
  return evidence.kind === 'check' ? evidence.expected !== evidence.given : evidence.trustedMargin >= KNOWN_ANSWER_MIN_MARGIN
}
