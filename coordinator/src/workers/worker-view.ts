import { workerFlavour, type VolunteerRecord, type WorkerView } from '@hivesight/protocol'
import type { Kysely, Selectable } from 'kysely'
import type { Database, VolunteerIdentityTable } from '../db/schema.ts'
import { identitiesIn } from '../db/volunteer-identity.repository.ts'
import { listLiveWorkers, type LiveWorkerRow } from '../db/worker.repository.ts'

/** A volunteer identity's row as the API shows it. */
export function toVolunteerRecord(r: Selectable<VolunteerIdentityTable>): VolunteerRecord {
  return {
    answers: Number(r.answers), confirmed: Number(r.confirmed), checksPassed: Number(r.checks_passed), checksFailed: Number(r.checks_failed),
    contradicted: Number(r.contradicted), quarantinedAt: r.quarantined_at === null ? null : Number(r.quarantined_at), quarantineReason: r.quarantine_reason,
  }
}

/** A worker's row as the API shows it (GET /api/v1/workers and the event stream); speed and honesty apart. */
export function toWorkerView(w: LiveWorkerRow, record?: Selectable<VolunteerIdentityTable>): WorkerView {
  const ms = (x: number | null) => (x === null ? null : Number(x))
  const [threads, simd] = [Number(w.threads), Number(w.simd) === 1]
  return {
    id: w.id, kind: w.kind, trusted: Number(w.trusted) === 1, identity: w.identity ?? null, record: record ? toVolunteerRecord(record) : null,
    name: w.name, slots: Number(w.slots), busy: w.busy, connectedAt: Number(w.connected_at),
    lastSeenAt: Number(w.last_seen_at), jobsDone: Number(w.jobs_done), backend: w.backend, threads, simd,
    flavour: workerFlavour({ backend: w.backend, simd, threads }),
    imagesPerSecond: Number(w.images_per_second), inferMs: ms(w.infer_ms), prepareMs: ms(w.prepare_ms),
  }
}

/** Every live worker (on every coordinator) as the API shows it, each volunteer with its identity's record. */
export async function listWorkerViews(db: Kysely<Database>): Promise<WorkerView[]> {
  const rows = await listLiveWorkers(db)
  const records = new Map((await identitiesIn(db, [...new Set(rows.flatMap((w) => (w.identity ? [w.identity] : [])))])).map((r) => [r.identity, r]))
  return rows.map((w) => toWorkerView(w, w.identity ? records.get(w.identity) : undefined))
}
