import { request, type Agent } from 'node:http'
import type { Socket } from 'node:net'

// Sockets given a no-op error listener: a keep-alive socket can still fail (EPIPE on a write that was under
// way when the answer came) after its request has let go of it, and an unheard 'error' ends the process.
const guarded = new WeakSet<Socket>()

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
    const done = () => {
      clearTimeout(timer)
      o.signal?.removeEventListener('abort', onAbort)
    }
    const req = request(url, { method: o.method ?? 'GET', agent: o.agent, headers: o.headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        done()
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString(), headers: res.headers })
      })
      res.on('error', (err) => {
        done()
        reject(err)
      })
    })
    const fail = (why: string) => req.destroy(new Error(why))
    if (o.totalTimeoutMs) timer = setTimeout(() => fail(`timeout after ${o.totalTimeoutMs} ms`), o.totalTimeoutMs)
    const onAbort = () => fail('aborted')
    if (o.signal?.aborted) fail('aborted')
    o.signal?.addEventListener('abort', onAbort, { once: true })
    if (o.idleTimeoutMs) req.setTimeout(o.idleTimeoutMs, () => fail(`idle for ${o.idleTimeoutMs} ms`))
    req.on('socket', (socket) => {
      if (guarded.has(socket)) return
      guarded.add(socket)
      socket.on('error', () => undefined)
    })
    req.on('error', (err) => {
      done()
      reject(err)
    })
    req.end(o.body)
  })
}
