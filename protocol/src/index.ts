import { Type, type Static } from 'typebox'
import { Compile } from 'typebox/compile'
import { CoordinatorDraining, CoordinatorHeartbeat } from './messages/coordinator-draining.ts'
import { JobCancel } from './messages/job-cancel.ts'
import { JobFailed } from './messages/job-failed.ts'
import { JobResult } from './messages/job-result.ts'
import { ProtocolError } from './messages/protocol-error.ts'
import { WorkerHello } from './messages/worker-hello.ts'
import { JobRelease, WorkerDrain } from './messages/worker-drain.ts'
import { WorkerWelcome } from './messages/worker-welcome.ts'
import { ModelCheck, ModelChecked, WorkerModels } from './messages/model-messages.ts'

export * from './messages/limits.ts'
export * from './messages/worker-hello.ts'
export * from './messages/worker-welcome.ts'
export * from './messages/job-assign.ts'
export * from './messages/job-result.ts'
export * from './messages/job-failed.ts'
export * from './messages/protocol-error.ts'
export * from './messages/job-cancel.ts'
export * from './messages/worker-drain.ts'
export * from './messages/coordinator-draining.ts'
export * from './messages/model-messages.ts'
export * from './frames/assign-frame.ts'
export * from './api/job-view.ts'
export * from './api/worker-view.ts'
export * from './api/problem.ts'
export * from './api/join-link.ts'
export * from './api/event-stream.ts'
export * from './api/model.ts'

/** Text frames a worker may send. */
export const FromWorker = Type.Union([WorkerHello, JobResult, JobFailed, WorkerDrain, JobRelease, WorkerModels, ModelChecked])
export type FromWorker = Static<typeof FromWorker>

/** Text frames the coordinator sends (job.assign travels as a binary frame). */
export const FromCoordinator = Type.Union([WorkerWelcome, ProtocolError, JobCancel, CoordinatorDraining, CoordinatorHeartbeat, ModelCheck])
export type FromCoordinator = Static<typeof FromCoordinator>

export type Decoded<T> = { ok: true; msg: T } | { ok: false; reason: string }

function decoder<T>(check: { Check(v: unknown): boolean; Errors(v: unknown): Iterable<{ message: string; instancePath?: string }> }) {
  return (text: string): Decoded<T> => {
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      return { ok: false, reason: 'not JSON' }
    }
    if (check.Check(value)) return { ok: true, msg: value as T }
    const first = [...check.Errors(value)][0]
    return { ok: false, reason: first ? `${first.instancePath ?? ''} ${first.message}`.trim() : 'invalid message' }
  }
}

export const decodeFromWorker = decoder<FromWorker>(Compile(FromWorker))
export const decodeFromCoordinator = decoder<FromCoordinator>(Compile(FromCoordinator))
