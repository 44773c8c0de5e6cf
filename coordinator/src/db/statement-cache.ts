import type { SqliteDatabase, SqliteStatement } from 'kysely'

/**
 * better-sqlite3 with its prepared statements kept (least recently used dropped beyond `size`): Kysely's
 * SQLite driver prepares every query it runs, and compiling the SQL was 14 % of the coordinator's CPU
 * in the dispatch benchmark — more than any of our own code. A statement is reused only after the
 * previous run finished (all/run are synchronous; nothing here streams with iterate).
 */
export function withStatementCache(db: SqliteDatabase, size = 256): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>()
  return {
    prepare(sql: string): SqliteStatement {
      const hit = cache.get(sql)
      if (hit) {
        // Move to the back: Map keeps insertion order, so the front is the least recently used.
        cache.delete(sql)
        cache.set(sql, hit)
        return hit
      }
      const stmt = db.prepare(sql)
      cache.set(sql, stmt)
      if (cache.size > size) cache.delete(cache.keys().next().value!)
      return stmt
    },
    close(): void {
      cache.clear()
      db.close()
    },
  }
}
