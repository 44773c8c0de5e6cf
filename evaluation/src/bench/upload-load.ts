import { request, Agent } from 'node:http'

/** A prebuilt multipart body with `copies` file parts, so the load generator spends its time sending, not encoding. */
export function multipartBody(image: Buffer, filename: string, type: string, copies = 1): { body: Buffer; contentType: string } {
  const boundary = `----hivesightbench${Math.random().toString(16).slice(2)}`
  const part = [Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="image"; filename="${filename}"\r\ncontent-type: ${type}\r\n\r\n`), image, Buffer.from('\r\n')]
  const body = Buffer.concat([...Array.from({ length: copies }, () => part).flat(), Buffer.from(`--${boundary}--\r\n`)])
  return { body, contentType: `multipart/form-data; boundary=${boundary}` }
}

/** One upload over a keep-alive agent; resolves with the status and the job ids of a 202. */
export function postUpload(url: string, agent: Agent, upload: { body: Buffer; contentType: string }): Promise<{ status: number; ids: string[] }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/api/v1/jobs`, { method: 'POST', agent, headers: { 'content-type': upload.contentType, 'content-length': upload.body.length } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const status = res.statusCode ?? 0
        const ids = status === 202 ? (JSON.parse(Buffer.concat(chunks).toString()) as { jobs: { id: string }[] }).jobs.map((j) => j.id) : []
        resolve({ status, ids })
      })
    })
    req.on('error', reject)
    req.end(upload.body)
  })
}

/** `total` uploads with `clients` in flight at all times; the rate and per-request latencies. */
export async function uploadsAtConcurrency(urls: string[], upload: { body: Buffer; contentType: string }, total: number, clients: number, onDone?: () => void): Promise<{ perSecond: number; latenciesMs: number[]; failed: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients })
  const latenciesMs: number[] = []
  let next = 0
  let failed = 0
  const t0 = performance.now()
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    while (next < total) {
      next++
      const t = performance.now()
      const r = await postUpload(urls[c % urls.length]!, agent, upload)
      if (r.status !== 202) failed++
      latenciesMs.push(performance.now() - t)
      onDone?.()
    }
  }))
  const perSecond = total / ((performance.now() - t0) / 1000)
  agent.destroy()
  return { perSecond, latenciesMs, failed }
}

/**
 * Uploads at a fixed rate (paced on absolute time, several per tick when due) for `seconds`; returns for
 * each job id when its request was sent.
 */
export async function uploadsAtRate(url: string, upload: { body: Buffer; contentType: string }, perSecond: number, seconds: number): Promise<{ sentAt: Map<string, number>; achievedPerSecond: number; failed: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 })
  const sentAt = new Map<string, number>()
  const total = Math.round(perSecond * seconds)
  const pending: Promise<void>[] = []
  let failed = 0
  const t0 = performance.now()
  let sent = 0
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * perSecond) + 1)
    for (; sent < due; sent++) {
      const t = performance.now()
      pending.push(postUpload(url, agent, upload).then((r) => {
        if (r.status !== 202) failed++
        for (const id of r.ids) sentAt.set(id, t)
      }, () => {
        failed++
      }))
    }
    await new Promise((r) => setTimeout(r, 2))
  }
  await Promise.all(pending)
  const achievedPerSecond = total / ((performance.now() - t0) / 1000)
  agent.destroy()
  return { sentAt, achievedPerSecond, failed }
}
