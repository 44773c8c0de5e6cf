import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Problem, StreamEventDoc } from '@hivesight/protocol'
import { Type } from 'typebox'
import type { ApiKeyVerifier } from '../auth/api-keys.ts'
import { AppError } from '../errors/app-errors.ts'
import type { EventHub, StreamFrame } from '../events/event-hub.ts'
import { requireApiKey, type AuthMode } from './auth.ts'

export interface EventsRoutesOptions {
  hub: EventHub
  authMode: AuthMode
  verifier: ApiKeyVerifier
  /** A comment line this often keeps proxies from closing an idle stream. */
  keepAliveMs?: number
}

// A client that reads nothing while this much waits in its socket is dropped; it resumes with Last-Event-ID.
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024

const DESCRIPTION = `Server-Sent Events (text/event-stream), scoped like the job routes: a key sees its own jobs (open mode: all).
Events: \`ready\` (live from here; after a replay), \`workers\` (the whole list with figures, on connect and every 2 s),
\`worker.joined\`, \`worker.left\`, \`stats\` (every 2 s, cluster-wide), \`history\` (right after \`ready\`: the
\`stats\` figures of the last 15 min this coordinator computed, oldest first, so charts need not start empty), \`job\` (a job's current state whenever it
changes: submitted, leased, finished, requeued, canceled, retried), \`reset\` (Last-Event-ID cannot be honoured: read
the job list again). Every coordinator sharing the database streams the whole cluster.
**Ids** are positions in the coordinators' shared events table: \`id: N\` means every change up to row N was sent.
Reconnect with \`Last-Event-ID: N\` (within the ~60 s events are kept) and the jobs changed since are sent again, in
their current state, before \`ready\`; a job may be sent twice, never missed. Only \`ready\` and the last \`job\`
event of a batch carry an id.`

/** SSE text of some frames: `id`, `event`, one `data` line of JSON each. */
export function sseText(frames: StreamFrame[]): string {
  let out = ''
  for (const f of frames) out += `${f.id !== undefined ? `id: ${f.id}\n` : ''}event: ${f.event}\ndata: ${JSON.stringify(f.data)}\n\n`
  return out
}

export const eventsRoutes: FastifyPluginAsyncTypebox<EventsRoutesOptions> = async (app, { hub, authMode, verifier, keepAliveMs = 15_000 }) => {
  requireApiKey(app, authMode, verifier)
  // The figures are kept from the start, so the first page gets the last 15 min too.
  app.addHook('onReady', async () => hub.run())
  app.addHook('preClose', async () => hub.closeAll())

  app.get('/api/v1/events', {
    schema: {
      tags: ['events'], summary: 'Live events: job state changes, workers joining and leaving, throughput figures', description: DESCRIPTION,
      produces: ['text/event-stream'],
      headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'resume after this event id' })) }),
      response: {
        200: { description: 'a stream of events (each `data:` is the JSON below)', content: { 'text/event-stream': { schema: StreamEventDoc } } },
        401: Problem, 429: Problem, 503: Problem,
      },
    },
  }, async (req, reply) => {
    const scope = req.principal ? { owner: req.principal.keyId } : 'all' as const
    hub.admit(scope)
    const lastId = req.headers['last-event-id']
    const raw = reply.raw
    let open = true
    let keepAlive: NodeJS.Timeout | undefined
    // Frames sent while the stream is being set up wait for the response head.
    let pending: string[] | null = []
    const close = () => {
      if (!open) return
      open = false
      clearInterval(keepAlive)
      raw.end()
    }
    const write = (text: string) => {
      if (!open) return
      // A stalled reader is cut off rather than buffered without bound.
      if (pending) return void pending.push(text)
      if (raw.writableLength > MAX_BUFFERED_BYTES) return close()
      raw.write(text)
    }
    let unsubscribe: () => void
    try {
      unsubscribe = await hub.subscribe(scope, lastId === undefined ? undefined : Number(lastId), {
        send: (frames) => write(sseText(frames)),
        close,
      })
    } catch (err) {
      if (err instanceof AppError) throw err
      req.log.warn({ err }, 'could not start an event stream')
      throw new AppError('SERVICE_UNAVAILABLE', 'the event stream cannot start right now (database unreachable); retry', { retryAfter: 2 })
    }
    reply.hijack()
    if (req.raw.socket.destroyed) return unsubscribe() // gone while the stream was set up
    const set = Object.entries(reply.getHeaders()).filter((e): e is [string, string | number | string[]] => e[1] !== undefined)
    raw.writeHead(200, {
      ...Object.fromEntries(set),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-request-id': req.id,
      // Tells nginx-like proxies not to buffer the stream.
      'x-accel-buffering': 'no',
    })
    raw.write(`retry: 2000\n\n${pending.join('')}`)
    pending = null
    keepAlive = setInterval(() => write(': keep-alive\n\n'), keepAliveMs)
    keepAlive.unref()
    raw.once('close', () => {
      unsubscribe()
      close()
    })
  })
}
