import { Agent, type AgentOptions, type ClientRequestArgs } from 'node:http'
import { connect, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'

export interface RacingOptions extends AgentOptions {
  /** A connection not made after this long gets another one racing beside it (and so on, every as long). */
  raceAfterMs: number
  /** At most this many connection attempts at once for one socket the agent needs. */
  racers: number
}

/**
 * An http.Agent whose new connections race, as "happy eyeballs" does across addresses: when a connection
 * is not made within `raceAfterMs`, another is started beside it, and the first to connect is used (the
 * others are closed). The kernel resends a lost SYN only after 1 s, then waits longer and longer; on a
 * link that loses 60 % of packets one connection in 13 loses its SYN five times running and keeps an
 * upload waiting for seconds before a byte of it is sent. Racers are extra SYNs, a few dozen bytes each.
 */
export class RacingAgent extends Agent {
  private readonly raceAfterMs: number
  private readonly racers: number

  constructor(o: RacingOptions) {
    super(o)
    this.raceAfterMs = o.raceAfterMs
    this.racers = o.racers
  }

  override createConnection(options: ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const started: Socket[] = []
    let settled = false
    let timer: NodeJS.Timeout | undefined
    const settle = (err: Error | null, socket: Socket) => {
      settled = true
      clearTimeout(timer)
      for (const s of started) if (s !== socket) s.destroy()
      callback?.(err, socket)
    }
    const race = () => {
      if (settled) return
      const socket = connect({ host: options.host ?? 'localhost', port: Number(options.port ?? 80) })
      started.push(socket)
      socket.once('connect', () => (settled ? socket.destroy() : settle(null, socket)))
      socket.once('error', (err) => {
        if (settled || started.some((s) => !s.destroyed)) return
        // Every racer failed (refused, unreachable): another one now, or the error once all were tried.
        if (started.length < this.racers) race()
        else settle(err, socket)
      })
      clearTimeout(timer)
      if (started.length < this.racers) timer = setTimeout(race, this.raceAfterMs)
    }
    race()
    return undefined
  }
}
