import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { decodeFromWorker, type FromCoordinator, type FromWorker, type JobFailed, type JobRelease, type JobResult, type ModelChecked, type WorkerHello, type WorkerModels } from '@hivesight/protocol'
import type { FastifyInstance } from 'fastify'
import { WebSocketServer, type RawData, type WebSocket } from 'ws'
import { isUnresponsive } from '../jobs/lease.ts'
import type { Logger } from '../jobs/logger.ts'
import type { Joined } from '../jobs/worker-sessions.ts'
import type { WorkerChannel, WorkerTrust } from '../workers/worker-registry.ts'
import { admitWorker, MessageBudget, originAllowed, trustOf, type WorkerAccessPolicy } from './connection-guard.ts'
import { SendBufferWatch } from './send-buffer-watch.ts'

export interface WorkerSocketOptions {
  path: string
  pingIntervalMs: number
  /** A connection that has not said (an admitted) hello by then is closed with 1008. */
  helloTimeoutMs: number
  access: WorkerAccessPolicy
  allowedOrigins: string[]
  maxConnectionsPerIp: number
  /** The client's address (behind a trusted load balancer, from X-Forwarded-For), for per-IP limits and logs. */
  clientAddress: (req: IncomingMessage) => string | undefined
}

/** What the socket layer hands to the job lifecycle. */
export interface WorkerLifecycle {
  /** Registers the worker, or refuses it (its token's sessions are live, its link revoked…). Throws on a database error. */
  join(hello: WorkerHello, channel: WorkerChannel, remoteAddress: string | null, sessionToken: string | undefined, trust: WorkerTrust): Promise<Joined>
  leave(workerId: string): Promise<void>
  draining(workerId: string): void
  answer(workerId: string, msg: JobResult | JobFailed): Promise<void>
  release(workerId: string, msg: JobRelease): Promise<void>
  /** The page's loaded model versions changed. */
  models(workerId: string, msg: WorkerModels): void
  /** A smoke test this coordinator asked for is over. */
  checked(workerId: string, msg: ModelChecked): Promise<void>
}

// Results are tiny; anything bigger is not a worker talking.
const MAX_MESSAGE_BYTES = 64 * 1024
const CLOSE_POLICY = 1008
// A second connection for a token that already has a live session (application code: "conflict").
const CLOSE_SESSION_TAKEN = 4409
// The coordinator could not register the worker (its database failed): the page reconnects and tries again.
const CLOSE_INTERNAL_ERROR = 1011
// A worker answers at most a few hundred jobs a second; far more messages than that is abuse.
const MESSAGES_PER_SECOND = 1_000
const MESSAGE_BURST = 2_000
// Malformed or over-budget messages tolerated before the connection is closed.
const MAX_OFFENCES = 20

/**
 * The only file that imports `ws`. One `upgrade` dispatcher on Fastify's server (a second WebSocket
 * server with its own handler would answer other paths with 400); frames are decoded with the shared
 * protocol and handed to the job service.
 */
export function attachWorkerSocket(app: FastifyInstance, jobs: WorkerLifecycle, log: Logger, opts: WorkerSocketOptions): void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false })
  // Requeues of closed connections still running; shutdown waits for them before the database goes.
  const pendingRequeues = new Set<Promise<void>>()
  const perIp = new Map<string, number>()
  const requeueOnClose = (id: string) => {
    const p = jobs.leave(id)
      .catch((err) => log.error({ err, workerId: id }, 'could not requeue the jobs of a lost worker'))
      .finally(() => pendingRequeues.delete(p))
    pendingRequeues.add(p)
  }
  const refuse = (socket: Duplex, status: string) => socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`)

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0]
    if (path !== opts.path) return refuse(socket, '404 Not Found')
    if (!originAllowed(req.headers.origin, req.headers.host, opts.allowedOrigins)) return refuse(socket, '403 Forbidden')
    const ip = opts.clientAddress(req) ?? 'unknown'
    if ((perIp.get(ip) ?? 0) >= opts.maxConnectionsPerIp) return refuse(socket, '429 Too Many Requests')
    perIp.set(ip, (perIp.get(ip) ?? 0) + 1)
    socket.once('close', () => {
      const n = (perIp.get(ip) ?? 1) - 1
      if (n > 0) perIp.set(ip, n)
      else perIp.delete(ip)
    })
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, req))
  }
  app.server.on('upgrade', onUpgrade)

  const serve = (ws: WebSocket, req: IncomingMessage) => {
    const remote = opts.clientAddress(req) ?? null
    let workerId: string | undefined
    let missedPings = 0
    let offences = 0
    const budget = new MessageBudget(MESSAGES_PER_SECOND, MESSAGE_BURST, performance.now())
    const send = (msg: FromCoordinator) => ws.send(JSON.stringify(msg))
    const offence = (code: string, message: string) => {
      send({ type: 'error', code, message })
      if (++offences > MAX_OFFENCES) ws.close(CLOSE_POLICY, 'too many bad messages')
    }
    const helloTimer = setTimeout(() => ws.close(CLOSE_POLICY, 'no worker.hello in time'), opts.helloTimeoutMs)
    // It stopped reading: drop it, and its jobs go back to the queue (the close handler requeues them).
    const sendBuffer = new SendBufferWatch(() => ws.bufferedAmount, (bytes) => {
      log.warn({ workerId, bufferedBytes: bytes }, 'worker stopped reading; dropping it')
      ws.terminate()
    })

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
          if (workerId) return offence('ALREADY_HELLO', 'worker.hello was already received')
          const admission = admitWorker(opts.access, msg.token, Date.now())
          if (!admission.ok) {
            log.warn({ remote }, `worker refused: ${admission.reason}`)
            return ws.close(CLOSE_POLICY, admission.reason)
          }
          clearTimeout(helloTimer)
          workerId = 'pending'
          const channel = {
            sendFrame: (frame: Uint8Array) => {
              if (ws.readyState !== ws.OPEN) return false
              ws.send(frame, { binary: true })
              sendBuffer.onSent(frame.length)
              return true
            },
            sendMessage: (m: FromCoordinator) => {
              if (ws.readyState !== ws.OPEN) return false
              send(m)
              return true
            },
            close: (code: number, reason: string) => ws.close(code, reason),
          }
          const trust = trustOf(admission, opts.access.mode, msg.kind, remote)
          // A volunteer tab is listed as a browser worker, whatever it claims.
          // A token's name is who the worker is; a name in the hello is only a claim.
          const hello = { ...msg, kind: trust.trusted ? msg.kind : 'browser' as const, name: admission.name ?? msg.name, token: undefined }
          // Live sessions per token are claimed in the database, so across coordinators: a copied token
          // cannot run beside its owner.
          let joined: Joined
          try {
            joined = await jobs.join(hello, channel, remote, admission.session, trust)
          } catch (err) {
            // Without this the page would wait forever for a welcome that never comes.
            log.warn({ err, remote }, 'could not register a worker; closing its socket so it reconnects')
            workerId = undefined
            return ws.close(CLOSE_INTERNAL_ERROR, 'the coordinator could not register this worker; retry')
          }
          if (!joined.ok) {
            log.warn({ remote, name: admission.name, identity: trust.identity }, `worker refused: ${joined.reason}`)
            workerId = undefined
            return ws.close(joined.taken ? CLOSE_SESSION_TAKEN : CLOSE_POLICY, joined.reason)
          }
          workerId = joined.id
          // It closed while we registered it: the close handler saw no id yet, so requeue here.
          if (ws.readyState !== ws.OPEN) return requeueOnClose(workerId)
          return send({ type: 'worker.welcome', workerId, slots: joined.slots, heartbeatMs: opts.pingIntervalMs })
        }
        case 'job.result':
        case 'job.failed': {
          const id = helloedId()
          return id && jobs.answer(id, msg)
        }
        case 'job.release': {
          const id = helloedId()
          return id && jobs.release(id, msg)
        }
        case 'worker.drain': {
          const id = helloedId()
          return id && jobs.draining(id)
        }
        case 'worker.models': {
          const id = helloedId()
          return id && jobs.models(id, msg)
        }
        case 'model.checked': {
          const id = helloedId()
          return id && jobs.checked(id, msg)
        }
        default: {
          const unhandled: never = msg
          return unhandled
        }
      }
    }

    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!budget.take(performance.now())) return offence('RATE_LIMITED', `more than ${MESSAGES_PER_SECOND} messages a second`)
      if (isBinary) return offence('BAD_MESSAGE', 'workers send JSON text frames')
      const decoded = decodeFromWorker(data.toString())
      if (!decoded.ok) return offence('BAD_MESSAGE', decoded.reason)
      handle(decoded.msg).catch((err) => {
        log.error({ err, workerId }, 'could not handle a worker message')
        send({ type: 'error', code: 'INTERNAL', message: 'the coordinator could not process that message' })
      })
    })
    ws.on('close', () => {
      clearTimeout(helloTimer)
      clearInterval(pinger)
      sendBuffer.stop()
      if (workerId && workerId !== 'pending') requeueOnClose(workerId)
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
