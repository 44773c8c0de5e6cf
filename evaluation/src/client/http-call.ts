import { request, type Agent } from 'node:http'

export interface HttpAnswer { status: number; text: string; headers: Record<string, string | string[] | undefined> }
export interface HttpOptions {
  method?: string
  headers?: Record<string, string | number>
  body?: Buffer
  agent: Agent
  /** The whole request, from sending to the last byte of the answer (aborted after it). */
  totalTimeoutMs?: number
  /** No byte sent or received on the socket for this long (what Python requests' `timeout=` means). */
  idleTimeoutMs?: number
  /** Aborts the request (e.g. another copy of it was answered). */
  signal?: AbortSignal
}

/** One HTTP request over a given agent; rejects on a network error or a timeout (the socket is destroyed). */
export function httpCall(url: string, o: HttpOptions): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined
    const req = request(url, { method: o.method ?? 'GET', agent: o.agent, headers: o.headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        clearTimeout(timer)
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString(), headers: res.headers })
      })
      res.on('error', (err) => {
        clearTimeout(timer)
        reject(err)
      })
    })
    const fail = (why: string) => req.destroy(new Error(why))
    if (o.totalTimeoutMs) timer = setTimeout(() => fail(`timeout after ${o.totalTimeoutMs} ms`), o.totalTimeoutMs)
    if (o.signal?.aborted) fail('aborted')
    o.signal?.addEventListener('abort', () => fail('aborted'), { once: true })
    if (o.idleTimeoutMs) req.setTimeout(o.idleTimeoutMs, () => fail(`idle for ${o.idleTimeoutMs} ms`))
    // A socket can still fail (EPIPE) after its request was answered or given up; the request reports it.
    req.on('socket', (socket) => socket.listenerCount('error') === 0 && socket.on('error', () => undefined))
    req.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    req.end(o.body)
  })
}
