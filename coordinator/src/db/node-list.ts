/**
 * Pure decisions for a MariaDB Galera cluster (or one plain server): which nodes a DATABASE_URL names,
 * which errors mean "run the transaction again", which mean "this node is no use, go to another".
 */

export interface DbNode {
  host: string
  port: number
}

export interface DbTarget {
  nodes: DbNode[]
  user: string
  password: string
  database: string
}

/**
 * `mysql://user:pass@h1:3306,h2,h3:3307/db` → three nodes (the URL class cannot parse a host list).
 * One host is the ordinary case. The first node is the preferred one.
 */
export function parseDatabaseUrl(databaseUrl: string): DbTarget {
  const m = /^(mysql|mariadb):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#]+)(?:\/([^?#]*))?/.exec(databaseUrl)
  if (!m) {
    const proto = /^([a-z0-9+.-]+):/i.exec(databaseUrl)?.[1] ?? databaseUrl
    throw new Error(`DATABASE_URL must start with mysql:// or mariadb:// (got ${proto}//)`)
  }
  const nodes = m[4]!.split(',').filter(Boolean).map((hp) => {
    const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(hp)
    if (bracket) return { host: bracket[1]!, port: bracket[2] ? Number(bracket[2]) : 3306 }
    const [host, port] = hp.split(':')
    return { host: host!, port: port ? Number(port) : 3306 }
  })
  if (nodes.length === 0 || nodes.some((n) => !n.host || !Number.isInteger(n.port))) throw new Error(`DATABASE_URL names no usable host: ${m[4]}`)
  return { nodes, user: decodeURIComponent(m[2] || 'root'), password: decodeURIComponent(m[3] ?? ''), database: decodeURIComponent(m[5] || '') || 'hivesight' }
}

type DbError = { code?: string; errno?: number; errors?: unknown[] } | undefined

/**
 * The transaction was rolled back as a whole and can run again: a deadlock or, on Galera, a certification
 * failure at COMMIT (both 1213), a lock wait timeout (1205), a node that is not (or no longer) part of the
 * primary component (1047, WSREP not ready: nothing was applied; the next try goes to another node).
 */
export function isRetryableTransactionError(err: unknown): boolean {
  const e = err as DbError
  return e?.errno === 1213 || e?.errno === 1205 || e?.errno === 1047 || e?.code === 'SQLITE_BUSY'
}

const NODE_GONE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'PROTOCOL_CONNECTION_LOST', 'ER_SERVER_SHUTDOWN', 'ER_CON_COUNT_ERROR'])

/**
 * This node cannot serve us now: unreachable, shutting down, or a Galera node outside the primary
 * component (1047 "WSREP has not yet prepared node for application use"). Its connection is dropped and
 * the pool moves on to the next node.
 */
export function isNodeUnusable(err: unknown): boolean {
  const e = err as DbError
  if (e?.errno === 1047 || e?.errno === 1053) return true
  if (typeof e?.code === 'string' && NODE_GONE_CODES.has(e.code)) return true
  return Array.isArray(e?.errors) && e.errors.some(isNodeUnusable)
}

/** The next node to try after `failed` (round robin; with one node, the same one). */
export function nextNode(failed: number, count: number): number {
  return count <= 1 ? 0 : (failed + 1) % count
}

/**
 * Whether a node's answers to `SHOW GLOBAL VARIABLES LIKE 'wsrep_on'` and `SHOW GLOBAL STATUS` (wsrep_ready,
 * wsrep_local_state) say it can take our traffic. A server without Galera (no wsrep_on row, or OFF) is ready:
 * its wsrep_ready reads OFF too, so that alone says nothing. A Galera node must be in the primary component
 * (wsrep_ready ON) and Synced (state 4): a joiner is still catching up, and an rsync donor blocks writes.
 * SHOW is the one kind of statement a non-primary node still answers, so the probe itself cannot 1047.
 */
export function isNodeReady(rows: readonly unknown[]): boolean {
  const value = new Map<string, string>()
  for (const r of rows) {
    const row = r as { Variable_name?: unknown; Value?: unknown } | null
    if (typeof row?.Variable_name === 'string') value.set(row.Variable_name.toLowerCase(), String(row.Value))
  }
  if (value.get('wsrep_on')?.toUpperCase() !== 'ON') return true
  return value.get('wsrep_ready')?.toUpperCase() === 'ON' && value.get('wsrep_local_state') === '4'
}

/** How often, at most, a pool that left its preferred (first-listed) node probes whether it can go back. */
export const FAILBACK_PROBE_MS = 10_000

/** Where a failover pool stands on going back to its preferred node, node 0. */
export interface FailbackState {
  /** The node new connections go to. */
  current: number
  /** When (a monotonic ms clock) the pool last left node 0 or last started probing it. */
  since: number
  /** The probe of node 0 since `since`: none yet, running, or how it ended. */
  probe: 'none' | 'running' | 'ready' | 'not-ready'
}

export type FailbackEvent =
  | { type: 'node-failed'; node: number; count: number }
  | { type: 'probe-started' }
  | { type: 'probe-ended'; ready: boolean }
  | { type: 'moved-back' }

export const ON_PREFERRED: FailbackState = { current: 0, since: 0, probe: 'none' }

/** The state after `event` at `now`. */
export function failbackState(s: FailbackState, event: FailbackEvent, now: number): FailbackState {
  switch (event.type) {
    case 'node-failed': {
      // Only the node in use moves the pool: a connection handed out earlier on another node may fail late.
      if (event.node !== s.current) return s
      const current = nextNode(event.node, event.count)
      if (current === 0) return ON_PREFERRED
      // Leaving node 0 starts the wait; moving on between other nodes keeps it (and any running probe).
      return s.current === 0 ? { current, since: now, probe: 'none' } : { ...s, current }
    }
    case 'probe-started':
      return { ...s, since: now, probe: 'running' }
    case 'probe-ended':
      // A probe that outlived its round (the pool went back to node 0 meanwhile) decides nothing.
      return s.probe === 'running' ? { ...s, probe: event.ready ? 'ready' : 'not-ready' } : s
    case 'moved-back':
      return ON_PREFERRED
  }
}

export type FailbackStep = { do: 'nothing' } | { do: 'wait'; ms: number } | { do: 'probe' } | { do: 'move-back' }

/**
 * What a pool away from node 0 does next: probe node 0 once `probeEveryMs` passed since it left or last
 * probed (start to start, so probes never overlap or come faster), and move back only after a probe found
 * it ready. On node 0, or while a probe runs, nothing.
 */
export function failbackStep(s: FailbackState, now: number, probeEveryMs: number): FailbackStep {
  if (s.current === 0 || s.probe === 'running') return { do: 'nothing' }
  if (s.probe === 'ready') return { do: 'move-back' }
  const left = s.since + probeEveryMs - now
  // Capped at one interval in case `now` jumped backwards.
  return left > 0 ? { do: 'wait', ms: Math.min(left, probeEveryMs) } : { do: 'probe' }
}
