import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { sql, type Kysely } from 'kysely'
import { createDb, type NodeChange } from '../../src/db/create-db.ts'
import { parseDatabaseUrl, type DbNode } from '../../src/db/node-list.ts'
import type { Database } from '../../src/db/schema.ts'
import { DIALECTS, MARIADB_URL } from '../support/databases.ts'

/**
 * A TCP proxy in front of the test MariaDB, standing in for the coordinator's own Galera node: it can be
 * stopped (its sockets cut, as when a node dies), started again on the same port, or made a black hole
 * (it accepts and never answers, as a node gone silent).
 */
class NodeProxy {
  /** Client connections accepted, over all starts. */
  accepted = 0
  /** The proxy's local ports towards MariaDB: the client port the server reports for a proxied session. */
  readonly upstreamPorts = new Set<number>()
  readonly sockets = new Set<Socket>()
  /** Sockets accepted in black-hole mode and still open. */
  readonly held = new Set<Socket>()
  blackHole = false
  port = 0
  private server: Server | undefined

  constructor(private readonly target: DbNode) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      this.accepted++
      this.track(client)
      if (this.blackHole) {
        this.held.add(client)
        client.on('close', () => this.held.delete(client))
        return
      }
      const upstream = connect(this.target.port, this.target.host, () => this.upstreamPorts.add(upstream.localPort!))
      this.track(upstream)
      const cut = () => {
        client.destroy()
        upstream.destroy()
      }
      client.on('error', cut).on('close', cut)
      upstream.on('error', cut).on('close', cut)
      client.pipe(upstream).pipe(client)
    })
    this.server.listen(this.port, '127.0.0.1')
    await once(this.server, 'listening')
    this.port = (this.server.address() as AddressInfo).port
  }

  async stop(): Promise<void> {
    const server = this.server
    if (!server) return
    this.server = undefined
    const closed = new Promise((resolve) => server.close(resolve))
    for (const s of this.sockets) s.destroy()
    await closed
  }

  private track(s: Socket): void {
    this.sockets.add(s)
    s.on('error', () => s.destroy()).on('close', () => this.sockets.delete(s))
  }
}

async function waitFor(what: string, ok: () => boolean, ms: number): Promise<number> {
  const start = performance.now()
  while (!ok()) {
    if (performance.now() - start > ms) throw new Error(`not within ${ms} ms: ${what}`)
    await sleep(20)
  }
  return performance.now() - start
}

test('after a failover, new connections go back to the first-listed node once a probe finds it ready; open ones finish where they are', {
  timeout: 60_000,
  skip: !DIALECTS.includes('mariadb') && 'DIALECTS leaves out mariadb',
}, async (t) => {
  const target = parseDatabaseUrl(MARIADB_URL)
  const server = target.nodes[0]!
  const proxy = new NodeProxy(server)
  await proxy.start()
  const every = 200
  const credentials = `${encodeURIComponent(target.user)}:${encodeURIComponent(target.password)}`
  const databaseUrl = `mysql://${credentials}@127.0.0.1:${proxy.port},${server.host}:${server.port}/${encodeURIComponent(target.database)}`
  const open: Kysely<Database>[] = []
  const changes: NodeChange[] = []
  const connect = (onNodeChange: (c: NodeChange) => void) => {
    const { kysely } = createDb({ databaseUrl, failbackProbeMs: every, onNodeChange })
    open.push(kysely)
    return kysely
  }
  const destroy = async (k: Kysely<Database>) => {
    open.splice(open.indexOf(k), 1)
    await k.destroy()
  }
  t.after(async () => {
    for (const k of open) await k.destroy()
    await proxy.stop()
  })
  const db = connect((c) => changes.push(c))
  const own = { host: '127.0.0.1', port: proxy.port }
  // Which node served a statement: MariaDB names the session's client port, which is the proxy's own port
  // towards it when the statement came through the proxy.
  const viaProxy = async (q: Kysely<Database>) => {
    const r = await sql<{ port: string }>`select substring_index(host, ':', -1) as port from information_schema.processlist where id = connection_id()`.execute(q)
    return proxy.upstreamPorts.has(Number(r.rows[0]!.port))
  }

  assert.equal(await viaProxy(db), true, 'the first-listed node is used first')

  await proxy.stop()
  await sleep(50)
  assert.equal(await viaProxy(db), false, 'its node gone, the query ran on the second node without an error')
  assert.deepEqual(changes, [{ from: own, to: server, reason: 'failover' }])
  await sleep(5 * every)
  assert.equal(await viaProxy(db), false, 'probes of a dead node move nothing')
  assert.equal(changes.length, 1)

  // A transaction open on the second node while the first comes back: it finishes there, new connections do not.
  const acceptedBefore = proxy.accepted
  const seen = await db.transaction().execute(async (trx) => {
    const before = await viaProxy(trx)
    await proxy.start()
    const movedInMs = await waitFor('the move back', () => changes.length === 2, 5_000)
    const fresh = await viaProxy(db)
    const after = await viaProxy(trx)
    return { before, fresh, after, movedInMs }
  })
  const { movedInMs, ...where } = seen
  assert.deepEqual(where, { before: false, fresh: true, after: false }, 'new connections moved back, the open transaction stayed')
  assert.ok(movedInMs < every + 1_000, `moved back ${Math.round(movedInMs)} ms after the node came back`)
  assert.deepEqual(changes[1], { from: server, to: own, reason: 'failback' })
  assert.ok(proxy.accepted > acceptedBefore, 'connections through the proxy again')
  assert.equal(await viaProxy(db), true)

  // A node that accepts and never answers: probes time out one at a time, callers never wait for them.
  await proxy.stop()
  await sleep(50)
  assert.equal(await viaProxy(db), false)
  proxy.blackHole = true
  await proxy.start()
  const holeFrom = proxy.accepted
  let mostOpen = 0
  let slowest = 0
  const holeStart = performance.now()
  while (performance.now() - holeStart < 3_500) {
    const q = performance.now()
    assert.equal(await viaProxy(db), false)
    slowest = Math.max(slowest, performance.now() - q)
    mostOpen = Math.max(mostOpen, proxy.held.size)
    await sleep(20)
  }
  assert.ok(proxy.accepted - holeFrom >= 2, `a timed-out probe is followed by another (${proxy.accepted - holeFrom})`)
  assert.ok(mostOpen <= 2, `probes do not pile up on a silent node (${mostOpen} sockets open at once)`)
  assert.ok(slowest < 500, `callers do not wait for a probe (slowest ${Math.round(slowest)} ms)`)
  assert.equal(changes.length, 3, 'no move back to a node that does not answer')
  proxy.blackHole = false
  await waitFor('the move back after the silence', () => changes.length === 4, 5_000)
  assert.equal(await viaProxy(db), true)
  await waitFor('every probe connection to the silent node closed', () => proxy.held.size === 0, 1_000)

  // destroy() ends every connection, the probe's among them: nothing stays open through the proxy.
  await destroy(db)
  await waitFor('all sockets through the proxy closed', () => proxy.sockets.size === 0, 2_000)

  // A pool away from the first node and destroyed: no probe runs after destroy().
  const other = connect(() => {})
  assert.equal(await viaProxy(other), true)
  await proxy.stop()
  await sleep(50)
  assert.equal(await viaProxy(other), false)
  await destroy(other)
  await proxy.start()
  const afterDestroy = proxy.accepted
  await sleep(5 * every)
  assert.equal(proxy.accepted, afterDestroy, 'no probe after destroy()')
})
