import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { decodeFromWorker, type FromCoordinator, type FromWorker } from '@hivesight/protocol'
import type { FastifyInstance } from 'fastify'
import { WebSocketServer, type RawData, type WebSocket } from 'ws'
import type { DispatchService, Logger } from '../jobs/dispatch-service.ts'
import { isUnresponsive } from '../jobs/lease.ts'

export interface WorkerSocketOptions {
  path: string
  pingIntervalMs: number
  /** A connection that has not said hello by then is closed. */
  helloTimeoutMs: number
}

// Results are tiny; anything bigger is not a worker talking.
const MAX_MESSAGE_BYTES = 64 * 1024
const CLOSE_POLICY = 1008

/**
 * The only file that imports `ws`. One `upgrade` dispatcher on Fastify's server (a second WebSocket
 * server with its own handler would answer other paths with 400); frames are decoded with the shared
 * protocol and handed to the job service.
 */
export function attachWorkerSocket(app: FastifyInstance, jobs: DispatchService, log: Logger, opts: WorkerSocketOptions): void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false })
  // Requeues of closed connections still running; shutdown waits for them before the database goes.
  const pendingRequeues = new Set<Promise<void>>()

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0]
    if (path !== opts.path) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, req))
  }
  app.server.on('upgrade', onUpgrade)

  const serve = (ws: WebSocket, req: IncomingMessage) => {
    let workerId: string | undefined
    let missedPings = 0
    const send = (msg: FromCoordinator) => ws.send(JSON.stringify(msg))
    const helloTimer = setTimeout(() => ws.close(CLOSE_POLICY, 'no worker.hello in time'), opts.helloTimeoutMs)

    // Liveness from the server side: protocol pings are answered by the browser itself, even in a
    // throttled background tab. Two unanswered pings in a row and the worker is dead.
    ws.on('pong', () => {
      missedPings = 0
    })
    const pinger = setInterval(() => {
      if (isUnresponsive(missedPings)) {
        log.warn({ workerId }, 'worker missed two pings; dropping it')
        ws.terminate()
        return
      }
      missedPings++
      ws.ping()
      if (workerId && workerId !== 'pending') send({ type: 'coordinator.heartbeat' })
    }, opts.pingIntervalMs)

    /** The worker's id once it has said hello; otherwise tells it so and gives undefined. */
    const helloedId = (): string | undefined => {
      if (workerId && workerId !== 'pending') return workerId
      send({ type: 'error', code: 'NO_HELLO', message: 'say worker.hello first' })
      return undefined
    }

    const handle = async (msg: FromWorker) => {
      switch (msg.type) {
        case 'worker.hello': {
          if (workerId) return send({ type: 'error', code: 'ALREADY_HELLO', message: 'worker.hello was already received' })
          clearTimeout(helloTimer)
          workerId = 'pending'
          const channel = {
            sendFrame: (frame: Uint8Array) => {
              if (ws.readyState !== ws.OPEN) return false
              ws.send(frame, { binary: true })
              return true
            },
            sendMessage: (m: FromCoordinator) => {
              if (ws.readyState !== ws.OPEN) return false
              send(m)
              return true
            },
            close: (code: number, reason: string) => ws.close(code, reason),
          }
          workerId = await jobs.workerConnected(msg, channel, req.socket.remoteAddress ?? null)
          if (ws.readyState !== ws.OPEN) return void jobs.workerDisconnected(workerId)
          return send({ type: 'worker.welcome', workerId, slots: msg.slots, heartbeatMs: opts.pingIntervalMs })
        }
        case 'job.result':
        case 'job.failed': {
          const id = helloedId()
          return id && jobs.handleAnswer(id, msg)
        }
        case 'job.release': {
          const id = helloedId()
          return id && jobs.handleRelease(id, msg)
        }
        case 'worker.drain': {
          const id = helloedId()
          return id && jobs.workerDraining(id)
        }
        default: {
          const unhandled: never = msg
          return unhandled
        }
      }
    }

    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) return send({ type: 'error', code: 'BAD_MESSAGE', message: 'workers send JSON text frames' })
      const decoded = decodeFromWorker(data.toString())
      if (!decoded.ok) return send({ type: 'error', code: 'BAD_MESSAGE', message: decoded.reason })
      handle(decoded.msg).catch((err) => {
        log.error({ err, workerId }, 'could not handle a worker message')
        send({ type: 'error', code: 'INTERNAL', message: 'the coordinator could not process that message' })
      })
    })
    ws.on('close', () => {
      clearTimeout(helloTimer)
      clearInterval(pinger)
      if (workerId && workerId !== 'pending') {
        const id = workerId
        const p = jobs.workerDisconnected(id)
          .catch((err) => log.error({ err, workerId: id }, 'could not requeue the jobs of a lost worker'))
          .finally(() => pendingRequeues.delete(p))
        pendingRequeues.add(p)
      }
    })
    ws.on('error', (err) => log.warn({ err, workerId }, 'worker socket error'))
  }

  // preClose: before Fastify closes the HTTP server, which would cut the upgraded sockets without a close frame.
  app.addHook('preClose', async () => {
    app.server.off('upgrade', onUpgrade)
    const open = [...wss.clients]
    for (const ws of open) ws.close(1001, 'coordinator shutting down')
    const allClosed = Promise.all(open.map((ws) => new Promise<void>((resolve) => {
      if (ws.readyState === ws.CLOSED) resolve()
      else ws.once('close', () => resolve())
    })))
    const grace = new Promise<void>((resolve) => setTimeout(resolve, 1_000))
    await Promise.race([allClosed, grace])
    for (const ws of wss.clients) ws.terminate()
    wss.close()
    await Promise.all(pendingRequeues)
  })
}
