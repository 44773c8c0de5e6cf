import { isUniqueViolation, type Db } from '../db/create-db.ts'
import * as eventsRepo from '../db/event.repository.ts'
import * as idemRepo from '../db/idempotency.repository.ts'
import * as imagesRepo from '../db/image.repository.ts'
import * as jobsRepo from '../db/job.repository.ts'
import type { IdempotencyKeyTable, NewJob } from '../db/schema.ts'
import type { Clock } from './clock.ts'
import type { ClusterSignals } from './cluster-signals.ts'

export interface PendingUpload {
  jobs: NewJob[]
  images: { job_id: string; bytes: Buffer }[]
  idempotencyKey?: IdempotencyKeyTable
}

/** stored: committed. keyTaken: another request stored the same Idempotency-Key first (nothing of this one was). */
export type UploadOutcome = 'stored' | 'keyTaken'

type Waiting = { upload: PendingUpload; done: (o: UploadOutcome) => void; fail: (err: unknown) => void }

// One transaction carries at most this much, so a commit stays short and its statements small.
const MAX_IMAGE_BYTES_PER_COMMIT = 16 * 1024 * 1024
const MAX_JOBS_PER_COMMIT = 2_000
const MAX_COMMITS_IN_FLIGHT = 2

/**
 * Group commit of uploads: requests that arrive while a transaction commits share the next one (jobs,
 * images, idempotency keys and one signal to the other coordinators), so one fsync makes many uploads
 * durable. Each request still learns its own fate: a key conflict in a group is retried request by request.
 */
export class UploadCommitter {
  private waiting: Waiting[] = []
  private inFlight = 0

  constructor(private readonly db: Db, private readonly signals: ClusterSignals, private readonly clock: Clock) {}

  commit(upload: PendingUpload): Promise<UploadOutcome> {
    return new Promise((done, fail) => {
      this.waiting.push({ upload, done, fail })
      this.next()
    })
  }

  private next(): void {
    while (this.inFlight < MAX_COMMITS_IN_FLIGHT && this.waiting.length > 0) {
      const group = this.takeGroup()
      this.inFlight++
      void this.commitGroup(group).finally(() => {
        this.inFlight--
        this.next()
      })
    }
  }

  private takeGroup(): Waiting[] {
    let bytes = 0
    let jobs = 0
    let n = 0
    for (const w of this.waiting) {
      const b = w.upload.images.reduce((s, i) => s + i.bytes.length, 0)
      if (n > 0 && (bytes + b > MAX_IMAGE_BYTES_PER_COMMIT || jobs + w.upload.jobs.length > MAX_JOBS_PER_COMMIT)) break
      bytes += b
      jobs += w.upload.jobs.length
      n++
    }
    return this.waiting.splice(0, n)
  }

  private async commitGroup(group: Waiting[]): Promise<void> {
    try {
      await this.write(group.map((w) => w.upload))
      for (const w of group) w.done('stored')
    } catch (err) {
      if (group.length > 1 && isUniqueViolation(err)) {
        // Rolled back as a whole because of one request's key: give each its own transaction.
        for (const w of group) await this.commitGroup([w])
        return
      }
      if (isUniqueViolation(err) && group[0]?.upload.idempotencyKey) return group[0].done('keyTaken')
      for (const w of group) w.fail(err)
    }
  }

  private async write(uploads: PendingUpload[]): Promise<void> {
    const now = this.clock.now()
    await this.db.kysely.transaction().execute(async (trx) => {
      await jobsRepo.insertJobs(trx, uploads.flatMap((u) => u.jobs))
      await imagesRepo.insertImages(trx, uploads.flatMap((u) => u.images))
      for (const u of uploads) if (u.idempotencyKey) await idemRepo.insertKey(trx, u.idempotencyKey)
      await eventsRepo.appendEvents(trx, [this.signals.row({ kind: 'jobs.queued' }, now)])
    })
  }
}
