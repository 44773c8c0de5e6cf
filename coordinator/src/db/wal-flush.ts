import { closeSync, fdatasync, openSync } from 'node:fs'
import type { SqliteDatabase } from 'kysely'

/**
 * Makes what SQLite has committed to its write-ahead log survive power loss, off the event loop. The
 * connection runs with synchronous=NORMAL (a commit is written to the log, not flushed); fdatasync of the
 * log file then flushes every commit written before it. synchronous=FULL did the same flush inside COMMIT,
 * on the coordinator's one thread: ~3 ms a commit on this VM's disk, during which no worker got its next
 * job. A checkpoint (which moves the log into the database file) syncs both files itself, so a commit
 * already checkpointed is durable too.
 */
export class WalFlush {
  private fd: number | undefined

  constructor(private readonly walFile: string) {}

  /** Resolves once everything committed before the call is on disk. */
  flush(): Promise<void> {
    // The log exists from the first write in WAL mode on and is not deleted while the database is open.
    if (this.fd === undefined) {
      try {
        this.fd = openSync(this.walFile, 'r')
      } catch (err) {
        // Nothing was ever written: nothing to flush.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return Promise.resolve()
        throw err
      }
    }
    const fd = this.fd
    return new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())))
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }

  /** `db` that also closes the log's descriptor when Kysely closes the database. */
  closingWith(db: SqliteDatabase): SqliteDatabase {
    return { prepare: (q) => db.prepare(q), close: () => {
      this.close()
      db.close()
    } }
  }
}

