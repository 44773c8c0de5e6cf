import type { Db } from '../db/create-db.ts'
import * as identitiesRepo from '../db/volunteer-identity.repository.ts'
import type { Logger } from '../jobs/logger.ts'

/**
 * Each volunteer identity's honesty record: answers given (which sets its spot-check rate), answers confirmed,
 * checks passed and failed, times a trusted worker contradicted it. Kept in the database for every
 * coordinator and the API; the answer counts are also kept here, since every dispatch asks for them.
 */
export class VolunteerLedger {
  private readonly answers = new Map<string, number>()
  private readonly loading = new Set<string>()

  constructor(private readonly db: Db, private readonly log: Logger) {}

  /** Answers this identity has given (0 until its record is read; a read starts on first sight). */
  answersGiven(identity: string): number {
    const n = this.answers.get(identity)
    if (n === undefined) this.load(identity)
    return n ?? 0
  }

  answered(identity: string, now: number): void {
    this.answers.set(identity, (this.answers.get(identity) ?? 0) + 1)
    this.add(identity, { answers: 1 }, now)
  }

  confirmed(identities: string[], now: number): void {
    for (const identity of identities) this.add(identity, { confirmed: 1 }, now)
  }

  checked(identity: string, passed: boolean, now: number): void {
    this.answers.set(identity, (this.answers.get(identity) ?? 0) + 1)
    this.add(identity, passed ? { answers: 1, checks_passed: 1 } : { answers: 1, checks_failed: 1 }, now)
  }

  contradicted(identity: string, now: number): void {
    this.add(identity, { contradicted: 1 }, now)
  }

  private add(identity: string, tally: identitiesRepo.Tally, now: number): void {
    identitiesRepo.addToRecord(this.db.kysely, this.db.dialect, identity, tally, now)
      .catch((err: unknown) => this.log.warn({ err, identity }, 'could not update a volunteer\'s record'))
  }

  private load(identity: string): void {
    if (this.loading.has(identity)) return
    this.loading.add(identity)
    identitiesRepo.findIdentity(this.db.kysely, identity)
      .then((row) => {
        // Answers counted here meanwhile are on top of what the record held.
        this.answers.set(identity, (this.answers.get(identity) ?? 0) + Number(row?.answers ?? 0))
      })
      .catch((err: unknown) => this.log.warn({ err, identity }, 'could not read a volunteer\'s record'))
      .finally(() => this.loading.delete(identity))
  }
}
