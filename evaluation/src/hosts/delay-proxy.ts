import net from 'node:net'

/** One direction's delay: each chunk is held `ms` plus a random part in [0, jitterMs). */
export interface Delay { ms: number; jitterMs: number }

export interface Route { listenPort: number; targetHost: string; targetPort: number }

/**
 * Pure: when to forward a chunk that arrived at `arrivedAt`, given when the previous chunk of the same
 * direction is due. Never before it: TCP is a byte stream, so jitter may bunch chunks but not reorder
 * them. `random` is in [0, 1).
 */
export function forwardAt(arrivedAt: number, delay: Delay, previousAt: number, random: number): number {
  return Math.max(arrivedAt + delay.ms + random * delay.jitterMs, previousAt)
}

/** Pure: `3306=10.77.0.11:3306` → a route. */
export function parseRoute(s: string): Route {
  const m = /^(\d{1,5})=(.+):(\d{1,5})$/.exec(s)
  if (!m || Number(m[1]) > 65535 || !(Number(m[3]) >= 1 && Number(m[3]) <= 65535)) throw new Error(`bad route ${JSON.stringify(s)}: expected <listenPort>=<targetHost>:<targetPort>`)
  return { listenPort: Number(m[1]), targetHost: m[2]!, targetPort: Number(m[3]) }
}

/** Above this many held bytes a direction stops reading, so a long delay cannot buffer without bound. */
const MAX_HELD = 1 << 20

/** One direction of a connection: reads `from`, holds each chunk (null = the FIN) until due, writes `to`. */
class Direction {
  private readonly held: { at: number; chunk: Buffer | null }[] = []
  private heldBytes = 0
  private lastAt = 0
  private timer: NodeJS.Timeout | undefined
  /** `to`'s buffer is full (write() said false) until its 'drain'. */
  private blocked = false
  private paused = false

  /** `schedule(arrivedAt, previousAt)`: when a chunk is due (forwardAt with the proxy's current delay). */
  constructor(private readonly from: net.Socket, private readonly to: net.Socket, private readonly schedule: (arrivedAt: number, previousAt: number) => number) {
    from.on('data', (chunk: Buffer) => this.push(chunk))
    from.on('end', () => this.push(null))
    to.on('drain', () => {
      this.blocked = false
      this.flush()
    })
  }

  get bufferedBytes(): number {
    return this.heldBytes + this.to.writableLength
  }

  stop(): void {
    clearTimeout(this.timer)
    this.held.length = 0
    this.heldBytes = 0
  }

  private push(chunk: Buffer | null): void {
    this.lastAt = this.schedule(performance.now(), this.lastAt)
    this.held.push({ at: this.lastAt, chunk })
    this.heldBytes += chunk?.length ?? 0
    this.flush()
  }

  private flush(): void {
    clearTimeout(this.timer)
    const now = performance.now()
    while (!this.blocked && this.held[0] && this.held[0].at <= now) {
      const { chunk } = this.held.shift()!
      this.heldBytes -= chunk?.length ?? 0
      if (this.to.destroyed || this.to.writableEnded) continue
      if (chunk === null) this.to.end()
      else this.blocked = !this.to.write(chunk)
    }
    // Re-checked when it fires, so a timer that fires early never forwards early.
    const next = this.held[0]
    if (!this.blocked && next) this.timer = setTimeout(() => this.flush(), Math.max(1, Math.ceil(next.at - now)))
    const stop = this.blocked || this.heldBytes > MAX_HELD
    if (stop !== this.paused) {
      this.paused = stop
      if (stop) this.from.pause()
      else this.from.resume()
    }
  }
}

/**
 * A TCP proxy that holds every chunk for the current delay before forwarding it: the rig's link delay,
 * since this kernel has no netem. Forwards each route's port on `listenHost` to its target.
 */
export class DelayProxy {
  private current: Delay = { ms: 0, jitterMs: 0 }
  private readonly servers: net.Server[] = []
  private readonly connections = new Set<{ directions: Direction[]; abort(reset: boolean): void; gone: Promise<void> }>()

  private readonly schedule = (arrivedAt: number, previousAt: number): number =>
    forwardAt(arrivedAt, this.current, previousAt, this.current.jitterMs > 0 ? this.random() : 0)

  constructor(private readonly listenHost: string, private readonly routes: Route[], private readonly random: () => number = Math.random) {}

  /** Resolves with the bound ports, in the order of the routes (a route's listen port may be 0). */
  async listen(): Promise<number[]> {
    try {
      for (const route of this.routes) {
        const server = net.createServer({ allowHalfOpen: true }, (client) => this.accept(client, route))
        this.servers.push(server)
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject)
          server.listen(route.listenPort, this.listenHost, () => {
            server.off('error', reject)
            resolve()
          })
        })
        server.on('error', (err) => console.error(`delay-proxy: ${this.listenHost}:${route.listenPort}: ${err.message}`))
      }
    } catch (err) {
      await this.close()
      throw err
    }
    return this.servers.map((s) => (s.address() as net.AddressInfo).port)
  }

  /** Applies to chunks that arrive from now on; 0/0 forwards at once (still after any chunk held). */
  setDelay(ms: number, jitterMs: number): void {
    if (!(ms >= 0 && jitterMs >= 0 && Number.isFinite(ms + jitterMs))) throw new Error(`bad delay ${ms} ms, jitter ${jitterMs} ms`)
    this.current = { ms, jitterMs }
  }

  get openConnections(): number {
    return this.connections.size
  }

  /** Bytes held or in a writer's buffer, over every open connection: what backpressure bounds. */
  get bufferedBytes(): number {
    return [...this.connections].reduce((n, c) => n + c.directions.reduce((m, d) => m + d.bufferedBytes, 0), 0)
  }

  /** Stops listening, destroys every open connection and resolves once all their sockets have closed. */
  async close(): Promise<void> {
    const closed = this.servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve())))
    for (const c of this.connections) c.abort(false)
    await Promise.all([...closed, ...[...this.connections].map((c) => c.gone)])
  }

  private accept(client: net.Socket, route: Route): void {
    const upstream = net.connect({ host: route.targetHost, port: route.targetPort, allowHalfOpen: true })
    // Small writes (SQL round trips, pings) must not also wait for Nagle on top of the delay.
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    const sockets = [client, upstream]
    const directions = [new Direction(client, upstream, this.schedule), new Direction(upstream, client, this.schedule)]
    let markGone = () => {}
    const connection = {
      directions,
      gone: new Promise<void>((resolve) => (markGone = resolve)),
      // A reset stays a reset on the other side; a still-connecting socket cannot be reset, only closed.
      abort: (reset: boolean) => {
        for (const d of directions) d.stop()
        for (const s of sockets) if (!s.destroyed) reset && !s.connecting ? s.resetAndDestroy() : s.destroy()
      },
    }
    this.connections.add(connection)
    for (const s of sockets) {
      s.on('error', () => connection.abort(true))
      s.on('close', () => {
        // Closed before its FIN was read: destroyed or failed, so the other side goes too. After a FIN,
        // its direction still forwards what it holds and then ends the other side.
        if (!s.readableEnded) connection.abort(false)
        if (sockets.every((x) => x.destroyed)) {
          for (const d of directions) d.stop()
          this.connections.delete(connection)
          markGone()
        }
      })
    }
  }
}
