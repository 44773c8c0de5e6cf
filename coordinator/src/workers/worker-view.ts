import { workerFlavour, type WorkerView } from '@hivesight/protocol'
import type { LiveWorkerRow } from '../db/worker.repository.ts'

/** A worker's row as the API shows it (GET /api/v1/workers and the event stream). */
export function toWorkerView(w: LiveWorkerRow): WorkerView {
  const ms = (x: number | null) => (x === null ? null : Number(x))
  const [threads, simd] = [Number(w.threads), Number(w.simd) === 1]
  return {
    id: w.id, kind: w.kind, trusted: w.kind === 'headless', name: w.name, slots: Number(w.slots), busy: w.busy, connectedAt: Number(w.connected_at),
    lastSeenAt: Number(w.last_seen_at), jobsDone: Number(w.jobs_done), backend: w.backend, threads, simd,
    flavour: workerFlavour({ backend: w.backend, simd, threads }),
    imagesPerSecond: Number(w.images_per_second), inferMs: ms(w.infer_ms), prepareMs: ms(w.prepare_ms),
  }
}
