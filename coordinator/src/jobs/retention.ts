import type { Db } from '../db/create-db.ts'
import * as imagesRepo from '../db/image.repository.ts'
import * as jobsRepo from '../db/job.repository.ts'
import * as knownRepo from '../db/known-answer.repository.ts'
import * as opinionsRepo from '../db/opinion.repository.ts'

export const PURGE_BATCH = 1_000
// One housekeeping pass deletes at most this many, so a first purge of a big backlog does not stall a sweep.
const PURGE_MAX_PER_PASS = 20_000

/** The smallest uuid v7 of a moment: every id made at or after it sorts above it. */
export function uuidV7Floor(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0').slice(-12)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-000000000000`
}

/**
 * Deletes final jobs submitted before `before` (and the images dead ones kept, volunteers' answers to
 * canceled ones), in small transactions, and known answers kept since before then: no image outlives the
 * retention. Jobs finish seconds after they are submitted, so the retention counts from submission.
 */
export async function purgeFinishedJobs(db: Db, before: number): Promise<number> {
  let purged = 0
  while (purged < PURGE_MAX_PER_PASS) {
    const ids = await jobsRepo.finalJobsBefore(db.kysely, uuidV7Floor(before), PURGE_BATCH)
    if (ids.length === 0) break
    await db.kysely.transaction().execute(async (trx) => {
      await imagesRepo.deleteImages(trx, ids)
      await opinionsRepo.deleteOpinionsOfJobs(trx, ids)
      purged += await jobsRepo.deleteJobs(trx, ids)
    })
    if (ids.length < PURGE_BATCH) break
  }
  await knownRepo.deleteKnownAnswersBefore(db.kysely, before)
  return purged
}
