import type { MysqlPool, MysqlPoolConnection, MysqlQueryResult } from 'kysely'
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2'
import {
  FAILBACK_PROBE_MS, ON_PREFERRED, failbackState, failbackStep, isNodeReady, isNodeUnusable,
  type DbNode, type FailbackEvent,
} from './node-list.ts'

/** New connections moved to another node: after a node error, or back to the first-listed node. */
export interface NodeChange {
  from: DbNode
  to: DbNode
  reason: 'failover' | 'failback'
}

export interface FailoverOptions {
  /** How often, at most, a pool away from its first-listed node probes it (ms; FAILBACK_PROBE_MS by default). */
  failbackProbeMs?: number
  /** Told of every move between nodes (for logging). */
  onNodeChange?: (change: NodeChange) => void
}

// A probe's own deadline, for what connectTimeout does not bound: its queries on a node gone silent, or a
// wait for a free connection of a full pool.
const PROBE_TIMEOUT_MS = 3_000
// Pools whose probe connection is still to come (past its deadline): a second probe would only queue behind it.
const connecting = new WeakSet<Pool>()

/**
 * One pool per node, one node in use at a time: a node that cannot be reached, or answers 1047 (outside
 * Galera's primary component), sends every later connection to the next node (round robin). With one
 * node this is the plain pool. The failed transaction itself is run again by `retryTransient`/`durably`.
 * Away from node 0 (the coordinator's own), a timer probes node 0 every `failbackProbeMs` and, once it is
 * ready, sends new connections back to it; connections already handed out finish where they are.
 */
export function failoverPool(pools: Pool[], nodes: DbNode[], options: FailoverOptions = {}): MysqlPool {
  const probeEveryMs = options.failbackProbeMs ?? FAILBACK_PROBE_MS
  let state = ON_PREFERRED
  let timer: NodeJS.Timeout | undefined
  let ended = false
  const apply = (event: FailbackEvent) => {
    state = failbackState(state, event, performance.now())
  }
  const report = (from: number, reason: NodeChange['reason']) => {
    try {
      options.onNodeChange?.({ from: nodes[from]!, to: nodes[state.current]!, reason })
    } catch {
      // An observer must not break database access.
    }
  }
  const step = () => {
    clearTimeout(timer)
    timer = undefined
    if (ended) return
    const next = failbackStep(state, performance.now(), probeEveryMs)
    if (next.do === 'wait') {
      // unref: a pending probe must not keep the process alive.
      timer = setTimeout(step, next.ms).unref()
    } else if (next.do === 'probe') {
      apply({ type: 'probe-started' })
      probeNode(pools[0]!, (ready) => {
        apply({ type: 'probe-ended', ready })
        step()
      })
    } else if (next.do === 'move-back') {
      const from = state.current
      apply({ type: 'moved-back' })
      report(from, 'failback')
    }
  }
  const failed = (node: number) => {
    const from = state.current
    apply({ type: 'node-failed', node, count: pools.length })
    if (state.current === from) return
    report(from, 'failover')
    step()
  }
  const connect = (callback: (error: unknown, conn: MysqlPoolConnection) => void, tries: number) => {
    const node = state.current
    pools[node]!.getConnection((err, conn) => {
      if (err && isNodeUnusable(err) && tries > 1) {
        failed(node)
        return connect(callback, tries - 1)
      }
      callback(err, err ? (conn as unknown as MysqlPoolConnection) : wrapped(conn, () => failed(node)))
    })
  }
  return {
    getConnection: (callback) => connect(callback, pools.length),
    end: (callback) => {
      ended = true
      clearTimeout(timer)
      let left = pools.length
      let first: unknown
      for (const p of pools) {
        p.end((err) => {
          first ??= err
          if (--left === 0) callback(first as Parameters<typeof callback>[0])
        })
      }
    },
  }
}

/**
 * Is this node ready for us again? Asked on a connection of its own pool, the one a caller would get next,
 * so an idle one gone stale while away fails here rather than in a request. SHOW is what a non-primary Galera
 * node still answers, so the answer is read, not inferred from an error. Never throws; calls `done` once,
 * within PROBE_TIMEOUT_MS; the connection goes back to the pool if ready, else it is closed.
 */
function probeNode(pool: Pool, done: (ready: boolean) => void): void {
  let conn: PoolConnection | undefined
  let settled = false
  const finish = (ready: boolean) => {
    if (settled) return
    settled = true
    clearTimeout(deadline)
    if (conn) {
      if (ready) conn.release()
      else conn.destroy()
    }
    done(ready)
  }
  if (connecting.has(pool)) return done(false)
  const deadline = setTimeout(() => finish(false), PROBE_TIMEOUT_MS).unref()
  connecting.add(pool)
  pool.getConnection((err, c) => {
    connecting.delete(pool)
    if (err) return finish(false)
    // Arrived after the deadline: nobody will use it.
    if (settled) return c.destroy()
    conn = c
    c.query<RowDataPacket[]>("SHOW GLOBAL VARIABLES LIKE 'wsrep_on'", (err1, variables) => {
      if (err1) return finish(false)
      c.query<RowDataPacket[]>("SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_local_state')", (err2, status) => {
        finish(!err2 && isNodeReady([...variables, ...status]))
      })
    })
  })
}

// One wrapper per pooled connection, for its whole life: Kysely knows a connection by the object it is
// handed and runs onCreateConnection (SET SESSION … ISOLATION LEVEL) for every one it has not seen, so a
// new wrapper per checkout cost an extra round trip on every use of the database.
const wrappers = new WeakMap<PoolConnection, MysqlPoolConnection>()

function wrapped(conn: PoolConnection, onNodeError: (err: unknown) => void): MysqlPoolConnection {
  let w = wrappers.get(conn)
  if (!w) {
    // A connection stays on the node whose pool made it, so its error handler stays right too.
    w = binaryAware(conn, onNodeError)
    wrappers.set(conn, w)
  }
  return w
}

/**
 * Statements with binary parameters (image bytes) run as prepared statements: the text protocol would
 * send each image as a hex literal, twice its size, formatted here and parsed by the server (that was the
 * largest cost of an upload). Everything else keeps the text protocol.
 */
function binaryAware(conn: PoolConnection, onNodeError: (err: unknown) => void): MysqlPoolConnection {
  let unusable = false
  const seen = <R>(callback: (error: unknown, result: R) => void) => (err: unknown, result: R) => {
    if (err && isNodeUnusable(err)) {
      unusable = true
      onNodeError(err)
    }
    callback(err, result)
  }
  return {
    query: ((text: string, parameters: unknown[], callback?: (error: unknown, result: MysqlQueryResult) => void) => {
      if (callback && parameters.some((p) => Buffer.isBuffer(p))) {
        conn.execute(text, parameters as Parameters<PoolConnection['execute']>[1], seen((err, result) => callback(err, result as MysqlQueryResult)))
        return undefined
      }
      return callback ? conn.query(text, parameters, seen((err, result) => callback(err, result as MysqlQueryResult))) : conn.query(text, parameters)
    }) as MysqlPoolConnection['query'],
    // A connection to a node that failed is not given back to the pool.
    release: () => (unusable ? conn.destroy() : conn.release()),
  }
}
