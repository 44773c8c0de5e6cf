import { readFile } from 'node:fs/promises'
import type { SubmitResponse } from '@hivesight/protocol'
import type { Api } from '../harness/api.ts'
import type { AckedUpload } from './history.ts'

/**
 * A client that never gives up on an upload: each logical upload has its own Idempotency-Key and is
 * retried (network error, 5xx, 409) until a 202, as a careful script would. Every 202 is recorded.
 */
export async function uploadWithRetries(api: Api, key: string, image: Buffer, record: AckedUpload, deadlineMs: number, seen: Record<string, number> = {}): Promise<void> {
  for (let attempt = 0; Date.now() < deadlineMs; attempt++) {
    try {
      const form = new FormData()
      form.append('image', new Blob([new Uint8Array(image)]), `${key}.png`)
      const res = await fetch(`${api.url}/api/v1/jobs`, { method: 'POST', body: form, headers: { ...api.headers, 'idempotency-key': key }, signal: AbortSignal.timeout(10_000) })
      seen[res.status] = (seen[res.status] ?? 0) + 1
      if (res.status === 202) {
        record.acks.push(((await res.json()) as SubmitResponse).jobs.map((j) => j.id))
        return
      }
      await res.arrayBuffer()
      if (res.status < 500 && res.status !== 409 && res.status !== 429) throw new Error(`upload ${key} refused with ${res.status}`)
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('upload ')) throw err
      seen['network error'] = (seen['network error'] ?? 0) + 1
    }
    await new Promise((r) => setTimeout(r, Math.min(1_000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2)))
  }
  throw new Error(`upload ${key} was never acknowledged`)
}

export const readImage = (path: string): Promise<Buffer> => readFile(path)
