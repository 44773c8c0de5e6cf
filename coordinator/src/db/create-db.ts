import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import { CompiledQuery, Kysely, MysqlDialect, SqliteDialect, sql, type Transaction } from 'kysely'
import { createPool } from 'mysql2'
import { failoverPool, type FailoverOptions } from './failover-pool.ts'
import { isRetryableTransactionError, parseDatabaseUrl } from './node-list.ts'
import type { Database } from './schema.ts'
import { withStatementCache } from './statement-cache.ts'
import { WalFlush } from './wal-flush.ts'

export type Dialect = 'mariadb' | 'sqlite'
export interface Db {
  kysely: Kysely<Database>
  dialect: Dialect
  /** A description safe to log (no password). */
  describe: string
  /** SQLite on a file: flushes its log off the event loop (wal-flush.ts), for `durably`. */
  walFlush?: WalFlush
}

export type { FailoverOptions, NodeChange } from './failover-pool.ts'

/**
 * `mysql://user:pass@host:port/db` → MariaDB through mysql2; anything else is a SQLite file path (or ':memory:').
 * With several hosts, `FailoverOptions` tune the move back to the first one and report moves.
 */
export function createDb(target: ({ databaseUrl: string } & FailoverOptions) | { sqliteFile: string }): Db {
  if ('databaseUrl' in target) {
    const t = parseDatabaseUrl(target.databaseUrl)
    // Several hosts (Galera nodes): one pool per node, used one at a time, the next when this one fails,
    // the first again once it is ready (failover-pool.ts).
    const pools = t.nodes.map((n) => createPool({
      host: n.host,
      port: n.port,
      user: t.user,
      password: t.password,
      database: t.database,
      connectionLimit: 10,
      // A silent node (partitioned away) must not hold a request for mysql2's default 10 s.
      connectTimeout: t.nodes.length > 1 ? 3_000 : 10_000,
      // BIGINT epoch-ms values fit in a double; keep them numbers on both dialects.
      supportBigNumbers: true,
      bigNumberStrings: false,
    }))
    return {
      kysely: new Kysely<Database>({
        dialect: new MysqlDialect({
          pool: failoverPool(pools, t.nodes, { failbackProbeMs: target.failbackProbeMs, onNodeChange: target.onNodeChange }),
          // READ COMMITTED: the claim's SELECT … FOR UPDATE SKIP LOCKED then locks only the rows it takes,
          // not the gaps of the queue index, so completions do not deadlock with claims.
          onCreateConnection: async (conn) => {
            await conn.executeQuery(CompiledQuery.raw('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED'))
          },
        }),
      }),
      dialect: 'mariadb',
      describe: `mariadb ${t.nodes.map((n) => `${n.host}:${n.port}`).join(',')}/${t.database}`,
    }
  }
  const file = target.sqliteFile
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true })
  const sqlite = new SqliteDatabase(file)
  // WAL: readers do not block the writer. synchronous=NORMAL: a commit survives the process dying but
  // skips the fsync (which better-sqlite3 would run on the event loop); what a client is told is durable
  // goes through `durably`, whose FULL commit fsyncs the log with everything before it.
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('synchronous = NORMAL')
  sqlite.pragma('busy_timeout = 5000')
  const walFlush = file === ':memory:' ? undefined : new WalFlush(`${file}-wal`)
  const database = withStatementCache(sqlite)
  return { kysely: new Kysely<Database>({ dialect: new SqliteDialect({ database: walFlush ? walFlush.closingWith(database) : database }) }), dialect: 'sqlite', describe: `sqlite ${file}`, walFlush }
}

/**
 * A transaction whose commit survives power loss before it returns: what a client is told is stored
 * (an upload's 202, a cancel, a retry). MariaDB's commits all are (innodb_flush_log_at_trx_commit=1); on
 * SQLite this commit's log is flushed before it returns, on libuv's threads (wal-flush.ts), and the
 * dispatch's own commits (claims, results, which at worst run a job again) are not flushed.
 */
export async function durably<T>(db: Db, fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  // A certification failure (Galera) or a deadlock rolled the whole transaction back: run it again.
  if (db.dialect !== 'sqlite') return retryTransient(() => db.kysely.transaction().execute(fn))
  if (db.walFlush) {
    const result = await db.kysely.transaction().execute(fn)
    await db.walFlush.flush()
    return result
  }
  // One connection for the pragma, the transaction and the reset, so no other statement runs between them.
  return db.kysely.connection().execute(async (conn) => {
    await sql`pragma synchronous = FULL`.execute(conn)
    try {
      return await conn.transaction().execute(fn)
    } finally {
      await sql`pragma synchronous = NORMAL`.execute(conn)
    }
  })
}

/** A duplicate primary/unique key, in either dialect's words. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; errno?: number }
  return e?.code === 'ER_DUP_ENTRY' || e?.errno === 1062 || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE'
}

/**
 * A deadlock, a lock-wait timeout, a Galera certification failure or a node outside the primary
 * component: the transaction was rolled back and can simply run again (see isRetryableTransactionError).
 */
export function isTransient(err: unknown): boolean {
  return isRetryableTransactionError(err)
}

// The database cannot be reached or cannot take writes right now (as opposed to a bad query);
// ER_UNKNOWN_COM_ERROR is 1047, a Galera node outside the primary component.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'PROTOCOL_CONNECTION_LOST',
  'ER_SERVER_SHUTDOWN', 'ER_CON_COUNT_ERROR', 'ER_UNKNOWN_COM_ERROR', 'ENETUNREACH', 'ER_LOCK_WAIT_TIMEOUT', 'SQLITE_BUSY', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_CANTOPEN',
])

/** The database is down, unreachable or full: the request may work later (503), it is not the client's fault. */
export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: string; errors?: unknown[] }
  if (typeof e?.code === 'string' && UNAVAILABLE_CODES.has(e.code)) return true
  // A pool's connect attempts to several addresses come back as one AggregateError.
  return Array.isArray(e?.errors) && e.errors.some(isUnavailable)
}

/** Runs `fn` again (a few times, with a short random pause) when the database rolled it back. */
export async function retryTransient<T>(fn: () => Promise<T>, tries = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn()
    } catch (err) {
      if (i >= tries || !isTransient(err)) throw err
      await new Promise((r) => setTimeout(r, Math.random() * 10 * i))
    }
  }
}

/**
 * The database's own clock in epoch ms, the one time every coordinator agrees on; null for the embedded
 * SQLite file, which lives on this host and so shares its clock.
 */
export async function databaseTimeMs(db: Db): Promise<number | null> {
  if (db.dialect === 'sqlite') return null
  const r = await sql<{ t: string | number }>`select round(unix_timestamp(now(3)) * 1000) as t`.execute(db.kysely)
  return Number(r.rows[0]!.t)
}
