import { workerFlavour, type VolunteerRecord, type WorkerView } from '@hivesight/protocol'
import type { Selectable } from 'kysely'
import type { VolunteerIdentityTable } from '../db/schema.ts'
import type { LiveWorkerRow } from '../db/worker.repository.ts'

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
