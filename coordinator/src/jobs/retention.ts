import type { Db } from '../db/create-db.ts'
import * as imagesRepo from '../db/image.repository.ts'
import * as jobsRepo from '../db/job.repository.ts'

const PURGE_BATCH = 1_000
// One housekeeping pass deletes at most this many, so a first purge of a big backlog does not stall a sweep.
const PURGE_MAX_PER_PASS = 20_000

/** Deletes jobs that finished before `before` (and the images dead ones kept), in small transactions. */
export async function purgeFinishedJobs(db: Db, before: number): Promise<number> {
  let purged = 0
  while (purged < PURGE_MAX_PER_PASS) {
    const ids = await jobsRepo.finishedBefore(db.kysely, before, PURGE_BATCH)
    if (ids.length === 0) break
    await db.kysely.transaction().execute(async (trx) => {
      await imagesRepo.deleteImages(trx, ids)
      purged += await jobsRepo.deleteJobs(trx, ids)
    })
    if (ids.length < PURGE_BATCH) break
  }
  return purged
}
