import WebSocket from 'ws'

/** What every attack gets: where the target is, the credentials a legitimate operator holds, and probes. */
export interface AttackTarget {
  url: string
  wsUrl: string
  /** Two ordinary users, and one that floods (so its 429s do not throttle the others). */
  keys: { alice: string; bob: string; flood: string }
  secrets: { workerToken: string; joinToken: string }
  /** Request timeout the target was started with. */
  requestTimeoutMs: number
  maxImageBytes: number
  maxImagesPerRequest: number
  maxConnectionsPerIp: number
  rateLimitPerMinute: number
  corsOrigin: string
}

export interface HttpAnswer {
  status: number
  headers: Headers
  body: { code?: string; [k: string]: unknown }
}

/** HTTP with every status recorded, so the run can count 5xx over all attacks. */
export class Http {
  readonly statuses: number[] = []
  constructor(private readonly base: string) {}

  async request(path: string, init: RequestInit & { key?: string } = {}): Promise<HttpAnswer> {
    const headers = new Headers(init.headers)
    if (init.key) headers.set('authorization', `Bearer ${init.key}`)
    const res = await fetch(`${this.base}${path}`, { ...init, headers })
    this.statuses.push(res.status)
    const text = await res.text()
    let body: HttpAnswer['body'] = {}
    try {
      body = text ? JSON.parse(text) : {}
    } catch { /* not JSON (metrics, HTML) */ }
    return { status: res.status, headers: res.headers, body }
  }

  /** A multipart upload of the given files. */
  upload(files: { name: string; data: Uint8Array; type?: string }[], opts: { key?: string; path?: string } = {}): Promise<HttpAnswer> {
    const form = new FormData()
    for (const f of files) form.append('image', new Blob([new Uint8Array(f.data)], { type: f.type ?? 'image/jpeg' }), f.name)
    return this.request(opts.path ?? '/api/v1/jobs', { method: 'POST', body: form, key: opts.key })
  }
}

export interface SocketEnd {
  /** Close code, if the socket opened. */
  code?: number
  /** HTTP status, if the upgrade was refused. */
  status?: number
  /** Codes of the error frames the coordinator sent. */
  errors: string[]
  afterMs: number
}

/** A raw worker socket; resolves with how it ended. */
export function rawSocket(url: string, opts: { origin?: string; onOpen?: (ws: WebSocket) => void; timeoutMs?: number } = {}): Promise<SocketEnd> {
  return new Promise((resolve) => {
    const started = performance.now()
    const ws = new WebSocket(url, { origin: opts.origin })
    const errors: string[] = []
    const done = (end: Omit<SocketEnd, 'errors' | 'afterMs'>) => {
      clearTimeout(timer)
      resolve({ ...end, errors, afterMs: performance.now() - started })
    }
    const timer = setTimeout(() => {
      ws.terminate()
      done({})
    }, opts.timeoutMs ?? 10_000)
    ws.on('message', (d, isBinary) => {
      if (isBinary) return
      try {
        const msg = JSON.parse(d.toString()) as { type?: string; code?: string }
        if (msg.type === 'error' && msg.code) errors.push(msg.code)
      } catch { /* not ours to judge */ }
    })
    ws.on('open', () => opts.onOpen?.(ws))
    ws.on('unexpected-response', (_req, res) => done({ status: res.statusCode }))
    ws.on('close', (code) => done({ code }))
    ws.on('error', () => undefined)
  })
}

/** The value of a Prometheus counter (summed over its labels). */
export function counter(metricsText: string, name: string): number {
  let sum = 0
  for (const line of metricsText.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return sum
}
