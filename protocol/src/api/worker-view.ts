import { Type, type Static } from 'typebox'
import { VolunteerRecord } from './join-link.ts'

/** Which build of the tfjs wasm backend a worker runs: the threaded build exists only with SIMD. */
export const WorkerFlavour = Type.Union([Type.Literal('plain'), Type.Literal('simd'), Type.Literal('simd+threads')], {
  description: "the wasm build the worker runs, from its hello: 'simd+threads' (SIMD and more than one thread), 'simd', or 'plain' (also any other backend)",
})
export type WorkerFlavour = Static<typeof WorkerFlavour>

export function workerFlavour(w: { backend: string; simd: boolean; threads: number }): WorkerFlavour {
  if (w.backend !== 'wasm' || !w.simd) return 'plain'
  return w.threads > 1 ? 'simd+threads' : 'simd'
}

export const WorkerView = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('headless'), Type.Literal('browser')]),
  trusted: Type.Boolean({ description: 'a runtime with a worker token (open mode: a headless runtime page); volunteer tabs are not' }),
  identity: Type.Union([Type.String(), Type.Null()], { description: "a volunteer's identity for verification: its join link's name, or net:<network> without a link; null for trusted workers" }),
  record: Type.Union([VolunteerRecord, Type.Null()], { description: "a volunteer identity's honesty record (its speed is in imagesPerSecond); null for trusted workers and before a first answer" }),
  name: Type.Union([Type.String(), Type.Null()]),
  slots: Type.Integer(),
  busy: Type.Integer({ description: 'jobs currently leased to this worker' }),
  connectedAt: Type.Integer(),
  lastSeenAt: Type.Integer(),
  jobsDone: Type.Integer(),
  backend: Type.String(),
  threads: Type.Integer(),
  simd: Type.Boolean({ description: 'the wasm backend runs its SIMD build' }),
  flavour: WorkerFlavour,
  imagesPerSecond: Type.Number({ minimum: 0, description: 'results accepted in the last 10 s, per second (as of lastSeenAt)' }),
  inferMs: Type.Union([Type.Number(), Type.Null()], { description: 'inference time, ms: exponentially weighted mean over recent results (α = 0.2); null before the first result' }),
  prepareMs: Type.Union([Type.Number(), Type.Null()], { description: 'preparation (decode + resize) time, ms, weighted like inferMs; null before the first result' }),
})
export type WorkerView = Static<typeof WorkerView>
export const WorkerList = Type.Object({ workers: Type.Array(WorkerView) })
export type WorkerList = Static<typeof WorkerList>
