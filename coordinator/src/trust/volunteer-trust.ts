import type { Db } from '../db/create-db.ts'
import { SqlVolunteerAnswerStore } from '../db/volunteer-answer-store.ts'
import { SqlVolunteerDispatchStore } from '../db/volunteer-dispatch-store.ts'
import { modelInput } from '../images/model-input.ts'
import type { TrustHooks } from '../jobs/answer-recorder.ts'
import type { Clock } from '../jobs/clock.ts'
import type { ClusterSignals } from '../jobs/cluster-signals.ts'
import type { VolunteerSlots } from '../jobs/dispatch-pump.ts'
import type { Logger } from '../jobs/logger.ts'
import type { WorkerRegistry } from '../workers/worker-registry.ts'
import { KnownAnswers } from './known-answers.ts'
import { Quarantine } from './quarantine.ts'
import { SpotCheckDesk } from './spot-check-desk.ts'
import type { SpotCheckPolicy } from './spot-checks.ts'
import type { VolunteerPolicy } from './verification.ts'
import { VolunteerAnswers, type VolunteerAnswerEvents } from './volunteer-answers.ts'
import { VolunteerDispatch } from './volunteer-dispatch.ts'
import { VolunteerLedger } from './volunteer-ledger.ts'

export interface VolunteerTrustOptions {
  policy: VolunteerPolicy
  spotChecks: SpotCheckPolicy
  leaseMs: number
  /** Versions volunteers may run: those whose input the coordinator prepares as model-input.ts does. */
  models(): string[]
  /** Decoding bound for model inputs (the upload's own pixel limit). */
  maxPixels: number
  random?: () => number
  /** Takes back what a worker that left holds (its leases in the database). */
  takeBack(workerId: string): Promise<unknown>
}

/** Everything that keeps volunteer tabs honest, wired once: what the pump, the recorder and the sockets call. */
export interface VolunteerTrust {
  slots: VolunteerSlots
  hooks: TrustHooks
  quarantine: Quarantine
  /** A worker left: its unanswered spot checks are forgotten. */
  workerLeft(workerId: string): void
}

export function createVolunteerTrust(db: Db, registry: WorkerRegistry, signals: ClusterSignals, clock: Clock, log: Logger, opts: VolunteerTrustOptions, events: VolunteerAnswerEvents): VolunteerTrust {
  const random = opts.random ?? Math.random
  const makeInput = (image: Buffer, contentType: string | null) => modelInput(image, contentType, opts.maxPixels)
  const known = new KnownAnswers(db, makeInput, log)
  const desk = new SpotCheckDesk(opts.spotChecks, random)
  const ledger = new VolunteerLedger(db, log)
  const quarantine = new Quarantine(db, registry, signals, log, events)
  const answers = new VolunteerAnswers(new SqlVolunteerAnswerStore(db), registry, desk, ledger, quarantine, signals, clock, log, { policy: opts.policy }, events)
  const dispatch = new VolunteerDispatch(new SqlVolunteerDispatchStore(db), registry, known, desk, ledger, makeInput, clock, log, { leaseMs: opts.leaseMs, random, takeBack: opts.takeBack, models: opts.models })
  return {
    slots: dispatch,
    quarantine,
    workerLeft: (id) => desk.forget(id),
    hooks: {
      volunteerAnswer: (w, msg) => answers.record(w, msg),
      settled: (jobs) => answers.settledByTrusted(jobs),
      // Any coordinator's trusted results fill the shared pool (volunteers may be on another coordinator).
      wantsKnownAnswers: () => known.wantsMore(random),
      knownAnswersOffered: (n) => known.added(n),
    },
  }
}
