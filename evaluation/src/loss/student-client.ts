import { Agent } from 'node:http'
import type { SubmitResponse } from '@hivesight/protocol'
import { httpCall } from '../client/http-call.ts'
import type { Upload, UploadOutcome } from '../client/resilient-client.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * The student project's client (`tests/start_test.py`) reproduced: one image at a time over one keep-alive
 * session, requests' `timeout=3` (3 s without a byte either way, not a limit on the whole request), no
 * Idempotency-Key, no retry; on an error it sleeps 5 s and skips the image.
 */
export async function studentUploads(url: string, items: { key: string; upload: () => Promise<Upload> }[], deadline: number, onDone: () => void): Promise<{ outcomes: UploadOutcome[]; attempted: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const outcomes: UploadOutcome[] = []
  let attempted = 0
  for (const item of items) {
    if (performance.now() > deadline) break
    const up = await item.upload()
    const outcome: UploadOutcome = { key: item.key, acks: [], attempts: 1, startedAt: performance.now(), ackedAt: null }
    outcomes.push(outcome)
    attempted++
    try {
      const res = await httpCall(`${url}/api/v1/jobs`, {
        method: 'POST', agent, body: up.body, idleTimeoutMs: 3_000,
        headers: { 'content-type': up.contentType, 'content-length': up.body.length },
      })
      if (res.status === 202) {
        outcome.acks.push((JSON.parse(res.text) as SubmitResponse).jobs.map((j) => j.id))
        outcome.ackedAt = performance.now()
      }
    } catch {
      await sleep(5_000)
    }
    onDone()
  }
  agent.destroy()
  return { outcomes, attempted }
}
