import type { Db } from '../db/create-db.ts'
import * as knownRepo from '../db/known-answer.repository.ts'
import type { Logger } from '../jobs/logger.ts'

/** Known answers kept for spot checks: enough variety that a tab cannot learn them, few enough to be cheap. */
export const KNOWN_ANSWER_POOL = 200
const RELOAD_MS = 60_000
const SAMPLE_ONE_IN = 50

export interface KnownAnswer {
  id: string
  /** The model input (what a volunteer receives), made once per known answer. */
  input: Buffer
  top1: number
  /** The version whose trusted answer it is: checks are only judged on the same version. */
  model: string
}

/**
 * The pool of known answers this coordinator draws spot checks from: read from the shared table (any
 * coordinator's trusted workers fill it), their model inputs made once and kept in memory.
 */
export class KnownAnswers {
  private answers: KnownAnswer[] = []
  private loadedAt = -Infinity
  private loading: Promise<void> | undefined
  private stored = 0

  constructor(
    private readonly db: Db,
    private readonly makeInput: (image: Buffer, contentType: string | null) => Promise<Buffer>,
    private readonly log: Logger,
  ) {}

  /**
   * Whether this trusted result should be kept as a known answer: while the pool is short, one in
   * SAMPLE_ONE_IN (spread over time and owners, and cheap: a copy of the image per SAMPLE_ONE_IN results).
   */
  wantsMore(random: () => number): boolean {
    return this.stored < KNOWN_ANSWER_POOL && random() * SAMPLE_ONE_IN < 1
  }

  /** Trusted results were kept: count them until the next reload says how many there are. */
  added(n: number): void {
    this.stored += n
    if (this.answers.length < KNOWN_ANSWER_POOL) this.loadedAt = -Infinity
  }

  /** A random known answer, or undefined while there is none (the pool reloads in the background). */
  pick(random: () => number, now: number): KnownAnswer | undefined {
    if (now - this.loadedAt > RELOAD_MS) void this.reload(now)
    return this.answers[Math.floor(random() * this.answers.length)]
  }

  reload(now: number): Promise<void> {
    this.loading ??= this.load(now).finally(() => {
      this.loading = undefined
    })
    return this.loading
  }

  private async load(now: number): Promise<void> {
    this.loadedAt = now
    try {
      const rows = await knownRepo.listKnownAnswers(this.db.kysely, KNOWN_ANSWER_POOL)
      const have = new Map(this.answers.map((a) => [a.id, a]))
      const next: KnownAnswer[] = []
      for (const r of rows) {
        const cached = have.get(r.job_id)
        if (cached) next.push(cached)
        else {
          try {
            next.push({ id: r.job_id, top1: r.top1, model: r.model_version_id ?? '', input: await this.makeInput(r.bytes, r.content_type) })
          } catch (err) {
            this.log.warn({ err, jobId: r.job_id }, 'a known answer\'s image cannot be made a model input; skipped')
          }
        }
      }
      this.answers = next
      this.stored = rows.length
    } catch (err) {
      this.log.warn({ err }, 'could not load known answers; spot checks wait')
    }
  }
}
