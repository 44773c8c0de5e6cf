// One client run of the loss experiment, as a process of its own so that it can run inside the client's
// network namespace (`ip netns exec NS node --import tsx evaluation/src/loss/client.main.ts …`).
// Progress goes to stderr; the last stdout line is a ClientReport (or {"error":…}).
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { parseArgs } from 'node:util'
import { multipartBody } from '../bench/upload-load.ts'
import { modelSized } from '../client/model-sized.ts'
import { readSegmentCounts, ShrinkPolicy, type ShrinkMode } from '../client/shrink-policy.ts'
import { ResilientClient, type Upload, type UploadOutcome } from '../client/resilient-client.ts'
import { Progress } from '../report/progress.ts'
import { studentUploads } from './student-client.ts'

export interface ClientItem { key: string; path: string }
export interface ClientReport {
  mode: 'ours' | 'student'
  /** HTTP upload requests sent (the student client: one per image; ours: retries included). */
  attempted: number
  images: number
  accepted: number
  /** First upload sent → last upload answered or given up (the student project's "duration"). */
  uploadPhaseS: number
  /** Date.now() when the first upload was sent, to line up with the coordinator's timestamps. */
  startWall: number
  bytesPerImage: number
  /** Images sent model-sized (the others as they are). */
  shrunk: number
  outcomes: { key: string; acks: string[][]; attempts: number; latencyMs: number | null; final: string | null }[]
}

try {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' }, list: { type: 'string' }, mode: { type: 'string', default: 'ours' },
      inflight: { type: 'string', default: '8' }, shrink: { type: 'string', default: 'never' },
      'deadline-s': { type: 'string', default: '300' }, 'timeout-ms': { type: 'string', default: '30000' }, 'idle-ms': { type: 'string', default: '10000' }, 'hedge-ms': { type: 'string', default: '0' }, 'race-connect-ms': { type: 'string', default: '0' },
    },
  })
  if (!values.url || !values.list) throw new Error('--url and --list are required')
  if (!['never', 'always', 'auto'].includes(values.shrink)) throw new Error(`--shrink never|always|auto, not ${values.shrink}`)
  const policy = new ShrinkPolicy(values.shrink as ShrinkMode, readSegmentCounts)
  const items = JSON.parse(readFileSync(values.list, 'utf8')) as ClientItem[]
  let bytes = 0
  let shrunk = 0
  const prepared = items.map((it) => ({
    key: it.key,
    upload: async (): Promise<Upload> => {
      const small = policy.shrinkNext
      const data = small ? await modelSized(readFileSync(it.path)) : readFileSync(it.path)
      if (small) shrunk++
      bytes += data.length
      return multipartBody(data, `${it.key}-${basename(it.path)}`, 'image/jpeg')
    },
  }))
  const progress = new Progress(items.length)
  const startWall = Date.now()
  const t0 = performance.now()
  const deadline = t0 + Number(values['deadline-s']) * 1000
  let phaseEnd = t0
  const tick = (o?: UploadOutcome) => {
    phaseEnd = performance.now()
    progress.tick(values.mode)
    if (o && policy.observe(o)) console.error('  the link is losing packets: the images not yet sent go model-sized')
  }
  let outcomes: UploadOutcome[]
  let attempted: number
  if (values.mode === 'student') {
    ({ outcomes, attempted } = await studentUploads(values.url, prepared, deadline, tick))
  } else {
    const client = new ResilientClient(values.url, { inflight: Number(values.inflight), timeoutMs: Number(values['timeout-ms']), idleMs: Number(values['idle-ms']), maxTimeoutMs: 120_000, deadline, results: true, hedgeMs: Number(values['hedge-ms']), raceConnectMs: Number(values['race-connect-ms']) })
    outcomes = await client.run(prepared, tick)
    attempted = client.attempts
    client.close()
  }
  progress.end()
  const report: ClientReport = {
    mode: values.mode === 'student' ? 'student' : 'ours', attempted, images: items.length,
    accepted: outcomes.filter((o) => o.ackedAt !== null).length,
    uploadPhaseS: (phaseEnd - t0) / 1000, startWall, bytesPerImage: bytes / Math.max(1, outcomes.length), shrunk,
    outcomes: outcomes.map((o) => ({ key: o.key, acks: o.acks, attempts: o.attempts, latencyMs: o.finalAt === undefined ? null : o.finalAt - o.startedAt, final: o.job?.status ?? null })),
  }
  process.stdout.write(`${JSON.stringify(report)}\n`)
  process.exit(0)
} catch (err) {
  process.stdout.write(`${JSON.stringify({ error: err instanceof Error ? err.message : String(err) })}\n`)
  process.exit(1)
}
