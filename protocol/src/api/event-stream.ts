import { Type, type Static } from 'typebox'
import { JobView } from './job-view.ts'
import { WorkerList, WorkerView } from './worker-view.ts'

// GET /api/v1/events (Server-Sent Events): one definition of every event's `data`, used by the
// coordinator's OpenAPI document and by the dashboard, so renaming a field breaks both builds.

export const StreamReady = Type.Object({
  coordinator: Type.String({ description: 'the coordinator this connection is served by' }),
  resumed: Type.Boolean({ description: 'true when Last-Event-ID was honoured: job events since then follow' }),
  eventsKeptMs: Type.Integer({ description: 'how far back Last-Event-ID can reach; older ids get a reset' }),
})
export type StreamReady = Static<typeof StreamReady>

export const WorkerLeft = Type.Object({ id: Type.String() })
export type WorkerLeft = Static<typeof WorkerLeft>

const NullableNumber = Type.Union([Type.Number(), Type.Null()])

// The figures of one 2 s tick: what a chart plots. `stats` adds the totals; `history` sends a list of these.
const statsFields = {
  at: Type.Integer({ description: 'epoch ms' }),
  imagesPerSecond: Type.Number({ description: 'sum of the connected workers\' images/s (results of the last 10 s)' }),
  latencyMs: Type.Object({
    p50: NullableNumber,
    p95: NullableNumber,
    samples: Type.Integer(),
  }, { description: 'upload → result of the jobs that succeeded in the last 60 s (null when none)' }),
  queued: Type.Integer(),
  running: Type.Integer(),
  workers: Type.Integer(),
  slots: Type.Integer(),
  busy: Type.Integer(),
}

export const StatsPoint = Type.Object(statsFields)
export type StatsPoint = Static<typeof StatsPoint>

export const StreamStats = Type.Object({
  ...statsFields,
  totals: Type.Union([Type.Record(Type.String(), Type.Integer()), Type.Null()], { description: 'jobs by status over the retention window, counted every 10 s; null until the first count' }),
})
export type StreamStats = Static<typeof StreamStats>

export const StreamHistory = Type.Object({
  windowMs: Type.Integer({ description: 'how far back the coordinator keeps figures (15 min)' }),
  points: Type.Array(StatsPoint, { description: 'the figures of every tick in that window this coordinator saw, oldest first (a restart starts empty)' }),
})
export type StreamHistory = Static<typeof StreamHistory>

export const StreamReset = Type.Object({
  reason: Type.String({ description: 'why the events since Last-Event-ID cannot be replayed: read the job list again' }),
})
export type StreamReset = Static<typeof StreamReset>

/** Every event of the stream: `event:` name and `data:` (JSON). */
export type StreamEvent =
  | { event: 'ready'; data: StreamReady }
  | { event: 'job'; data: JobView }
  | { event: 'workers'; data: WorkerList }
  | { event: 'worker.joined'; data: WorkerView }
  | { event: 'worker.left'; data: WorkerLeft }
  | { event: 'stats'; data: StreamStats }
  | { event: 'history'; data: StreamHistory }
  | { event: 'reset'; data: StreamReset }
export type StreamEventName = StreamEvent['event']
export const STREAM_EVENT_NAMES: readonly StreamEventName[] = ['ready', 'job', 'workers', 'worker.joined', 'worker.left', 'stats', 'history', 'reset']

/** For the OpenAPI document: the `data` of each event, by name. */
export const StreamEventDoc = Type.Union([
  Type.Object({ event: Type.Literal('ready'), data: StreamReady }),
  Type.Object({ event: Type.Literal('job'), id: Type.Optional(Type.String()), data: JobView }),
  Type.Object({ event: Type.Literal('workers'), data: WorkerList }),
  Type.Object({ event: Type.Literal('worker.joined'), data: WorkerView }),
  Type.Object({ event: Type.Literal('worker.left'), data: WorkerLeft }),
  Type.Object({ event: Type.Literal('stats'), data: StreamStats }),
  Type.Object({ event: Type.Literal('history'), data: StreamHistory }),
  Type.Object({ event: Type.Literal('reset'), data: StreamReset }),
])

