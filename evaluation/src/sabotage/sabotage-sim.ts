import { DEFAULT_SPOT_CHECKS, NO_SPOT_CHECKS, quarantines, shouldSpotCheck, usableAsKnownAnswer, type SpotCheckPolicy } from '@hivesight/coordinator/trust/spot-checks'
import { judge, mayAnswer, type Opinion, type VolunteerPolicy } from '@hivesight/coordinator/trust/verification'
import { answerOf, SABOTEUR_KINDS, seededRandom, type Behaviour, type SimJob } from './volunteers.ts'

export interface SabotageOptions {
  volunteers: number
  trusted: number
  /** Share of volunteers that are saboteurs, split evenly over steady, sleeper and colluding. */
  saboteurs: number
  lieRate: number
  jobs: number
  policy: VolunteerPolicy
  spotChecks: boolean
  seed: number
}

export interface SabotageResult {
  /** Final jobs whose answer is not the true one, over all jobs. */
  wrongAccepted: number
  /** Inferences run (real jobs, repeats, checks, work thrown away) per job. */
  overhead: number
  jobs: number
  /** Saboteur identities quarantined, and honest ones (false alarms). */
  quarantined: number
  honestQuarantined: number
  saboteurs: number
  unfinished: number
  rounds: number
}

interface SimWorker {
  identity: string
  network: string
  trusted: boolean
  behaviour: Behaviour
  /** Chance of finishing its current job in a round (volunteers are slower and uneven). */
  speed: number
  answered: number
  quarantined: boolean
  current: { job: JobState } | { check: KnownAnswer } | null
  /** Jobs it alone made final since its last passed check ('accept' policy: taken back on quarantine). */
  unconfirmed: Set<JobState>
}

interface JobState extends SimJob {
  opinions: (Opinion & { worker: SimWorker })[]
  final: number | null
  leased: boolean
}

interface KnownAnswer {
  job: SimJob
}

const KNOWN_ANSWER_POOL = 200
const MAX_ROUNDS = 100_000

/**
 * Many volunteers and a few trusted workers share a queue, one job at a time each, in rounds. Dispatch,
 * verdicts, spot checks and quarantine are the coordinator's own pure rules (coordinator/src/trust); the
 * claim takes the oldest job the worker may answer, as the coordinator's claim query does.
 */
export function runSabotage(o: SabotageOptions): SabotageResult {
  const random = seededRandom(o.seed)
  const checks: SpotCheckPolicy = o.spotChecks ? DEFAULT_SPOT_CHECKS : NO_SPOT_CHECKS
  const jobs: JobState[] = Array.from({ length: o.jobs }, (_, id) => ({ id, truth: 1 + Math.floor(random() * 1000), margin: random(), opinions: [], final: null, leased: false }))
  const saboteurCount = Math.round(o.volunteers * o.saboteurs)
  const workers: SimWorker[] = []
  for (let i = 0; i < o.volunteers; i++) {
    const behaviour: Behaviour = i < saboteurCount ? SABOTEUR_KINDS[i % SABOTEUR_KINDS.length]! : 'honest'
    // Most volunteers on networks of their own; one in ten on a shared campus network.
    const network = random() < 0.1 ? `campus-${Math.floor(random() * 5)}` : `net-${Math.floor(random() * 1_000_000)}`
    workers.push({ identity: `v${i}`, network, trusted: false, behaviour, speed: 0.3 + 0.7 * random(), answered: 0, quarantined: false, current: null, unconfirmed: new Set() })
  }
  for (let i = 0; i < o.trusted; i++) workers.push({ identity: `vm${i}`, network: `dc-${i}`, trusted: true, behaviour: 'honest', speed: 1, answered: 0, quarantined: false, current: null, unconfirmed: new Set() })

  const known: KnownAnswer[] = []
  let queued = jobs.slice()
  let inferences = 0
  let finals = 0
  let rounds = 0

  const quarantine = (w: SimWorker) => {
    w.quarantined = true
    if (w.current && 'job' in w.current) w.current.job.leased = false
    w.current = null
    // Every answer it gave that nobody confirmed is forgotten; jobs it alone made final run again.
    for (const j of jobs) {
      if (j.final === null && j.opinions.some((op) => op.worker === w)) j.opinions = j.opinions.filter((op) => op.worker !== w)
    }
    for (const j of w.unconfirmed) {
      j.final = null
      j.opinions = []
      finals--
    }
    w.unconfirmed.clear()
    queued = jobs.filter((j) => j.final === null && !j.leased)
  }

  const claim = (w: SimWorker): JobState | undefined => {
    for (let i = 0; i < queued.length; i++) {
      const j = queued[i]!
      const pending = j.opinions[0] ?? null
      const needsTrusted = pending !== null && judge(j.opinions, o.policy).kind === 'settle'
      if (mayAnswer(w, { pending, needsTrusted, volunteersAllowed: true })) {
        queued.splice(i, 1)
        j.leased = true
        return j
      }
    }
    return undefined
  }

  const answer = (w: SimWorker, j: JobState) => {
    const top1 = answerOf(w.behaviour, j, w.answered, o.lieRate, random)
    j.leased = false
    j.opinions.push({ identity: w.identity, network: w.network, trusted: w.trusted, top1, worker: w })
    const verdict = judge(j.opinions, o.policy)
    if (verdict.kind !== 'final') return void queued.push(j)
    j.final = verdict.accepted.top1
    finals++
    const accepted = j.opinions.find((op) => op === verdict.accepted)!
    if (!accepted.trusted && verdict.agreed.length === 0) accepted.worker.unconfirmed.add(j)
    if (accepted.trusted) {
      if (known.length < KNOWN_ANSWER_POOL && usableAsKnownAnswer([{ score: j.margin }, { score: 0 }])) known.push({ job: j })
      for (const c of verdict.contradicted) {
        const who = j.opinions.find((op) => op === c)!.worker
        if (!who.quarantined && quarantines({ kind: 'contradicted', trustedMargin: j.margin })) quarantine(who)
      }
    }
  }

  while (finals < o.jobs && rounds < MAX_ROUNDS) {
    rounds++
    queued.sort((a, b) => a.id - b.id)
    for (const w of workers) {
      if (w.quarantined) continue
      if (w.current === null) {
        if (!w.trusted && known.length > 0 && shouldSpotCheck(w.answered, random, checks)) w.current = { check: known[Math.floor(random() * known.length)]! }
        else {
          const j = claim(w)
          w.current = j ? { job: j } : null
        }
      }
      if (w.current === null || random() >= w.speed) continue
      inferences++
      const current = w.current
      w.current = null
      if ('check' in current) {
        const given = answerOf(w.behaviour, current.check.job, w.answered, o.lieRate, random)
        w.answered++
        if (quarantines({ kind: 'check', expected: current.check.job.truth, given })) quarantine(w)
        else w.unconfirmed.clear()
      } else {
        answer(w, current.job)
        w.answered++
      }
    }
  }
  const volunteers = workers.filter((w) => !w.trusted)
  return {
    wrongAccepted: jobs.filter((j) => j.final !== null && j.final !== j.truth).length / o.jobs,
    overhead: inferences / o.jobs,
    jobs: o.jobs,
    quarantined: volunteers.filter((w) => w.quarantined && w.behaviour !== 'honest').length,
    honestQuarantined: volunteers.filter((w) => w.quarantined && w.behaviour === 'honest').length,
    saboteurs: saboteurCount,
    unfinished: jobs.filter((j) => j.final === null).length,
    rounds,
  }
}
