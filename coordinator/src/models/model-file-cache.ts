type File = { sha256: string; bytes: Buffer }

/**
 * Version files kept in memory for worker pages (every page of the cluster loads the same few files), the
 * oldest dropped beyond a byte budget. Versions never change, so an entry is never stale, only gone.
 */
export class ModelFileCache {
  private readonly files = new Map<string, File>()
  private bytes = 0

  constructor(private readonly budget = 256 * 1024 * 1024) {}

  get(versionId: string, path: string): File | undefined {
    return this.files.get(`${versionId}/${path}`)
  }

  put(versionId: string, path: string, f: File): void {
    // One file may not take more than a quarter: a big one would push out every small one.
    if (f.bytes.length >= this.budget / 4) return
    while (this.bytes + f.bytes.length > this.budget && this.files.size > 0) {
      const [oldest, entry] = this.files.entries().next().value as [string, File]
      this.files.delete(oldest)
      this.bytes -= entry.bytes.length
    }
    this.files.set(`${versionId}/${path}`, f)
    this.bytes += f.bytes.length
  }

  /** A removed version's files must not outlive it (here, or on a peer told by signal). */
  keepOnly(exists: (versionId: string) => boolean): void {
    for (const [key, f] of this.files) {
      if (exists(key.slice(0, key.indexOf('/')))) continue
      this.files.delete(key)
      this.bytes -= f.bytes.length
    }
  }
}
