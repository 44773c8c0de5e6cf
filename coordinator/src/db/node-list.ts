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
