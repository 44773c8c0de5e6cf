import { mkdirSync } from 'node:fs'
import { open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'

const BLOB_ID = /^[0-9a-f-]{36}$/

/**
 * Uploaded images, one file per job id. `put` returns only when the bytes are on disk (fsync of the file,
 * rename, and `flush` fsyncs the directory entry), because a 202 promises the upload survives a crash.
 */
export class BlobStore {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true })
  }

  private path(id: string): string {
    // ids are uuids made by the coordinator; the check keeps any other string away from the file system.
    if (!BLOB_ID.test(id)) throw new Error(`not a blob id: ${id}`)
    return join(this.dir, id)
  }

  async put(id: string, bytes: Uint8Array): Promise<void> {
    const final = this.path(id)
    const tmp = `${final}.tmp`
    const fh = await open(tmp, 'w', 0o600)
    try {
      await fh.writeFile(bytes)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, final)
  }

  /** Make the renames of earlier `put`s durable: one directory fsync for a whole batch. */
  async flush(): Promise<void> {
    const fh = await open(this.dir, 'r')
    try {
      await fh.sync()
    } finally {
      await fh.close()
    }
  }

  /**
   * Clean-up pass: removes temporary files of puts that never finished (a crash between write and rename;
   * older than any live put by `beforeMs`) and returns the ids of images last written before `beforeMs`.
   */
  async sweepOlderThan(beforeMs: number): Promise<string[]> {
    const out: string[] = []
    for (const name of await readdir(this.dir)) {
      const tmp = name.endsWith('.tmp')
      if (!BLOB_ID.test(tmp ? name.slice(0, -4) : name)) continue
      const st = await stat(join(this.dir, name)).catch(() => undefined)
      if (!st || st.mtimeMs >= beforeMs) continue
      if (tmp) await unlink(join(this.dir, name)).catch(() => undefined)
      else out.push(name)
    }
    return out
  }

  get(id: string): Promise<Buffer> {
    return readFile(this.path(id))
  }

  async delete(id: string): Promise<void> {
    await unlink(this.path(id)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e
    })
  }
}
