import { readdir, realpath, stat } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { UsageError } from './classify-args.ts'

/** What a folder walk picks up (case-insensitive). The coordinator itself reads JPEG, PNG, WebP and GIF. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.bmp'])

export const isImageName = (name: string) => IMAGE_EXTENSIONS.has(extname(name).toLowerCase())

function errorCode(err: unknown): string {
  return err instanceof Error && 'code' in err ? String(err.code) : ''
}

/**
 * Every image file under `dir`, recursively. Hidden entries (.DS_Store, ._x.jpg, .git) are skipped;
 * symbolic links are followed, each real folder walked once (so a link loop ends). A sub-folder that
 * cannot be read is reported to `warn` and skipped: one unreadable folder should not stop a big run.
 */
async function walk(dir: string, seen: Set<string>, out: string[], warn: (m: string) => void): Promise<void> {
  let entries
  try {
    const real = await realpath(dir)
    if (seen.has(real)) return
    seen.add(real)
    entries = await readdir(dir, { withFileTypes: true })
  } catch (err) {
    warn(`cannot read folder ${dir} (${errorCode(err) || String(err)}); skipped`)
    return
  }
  for (const e of entries) {
    if (e.name.startsWith('.')) continue
    const p = join(dir, e.name)
    let isDir = e.isDirectory()
    let isFile = e.isFile()
    if (e.isSymbolicLink()) {
      const target = await stat(p).catch(() => null)
      if (!target) {
        warn(`${p} is a broken link; skipped`)
        continue
      }
      isDir = target.isDirectory()
      isFile = target.isFile()
    }
    if (isDir) await walk(p, seen, out, warn)
    else if (isFile && isImageName(e.name)) out.push(p)
  }
}

/** Code-point order: the same on every machine and locale, so a resumed run goes in the same order. */
export const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/**
 * The images to classify: each absolute PATH that is a file as it is (whatever its extension: it was
 * asked for), each folder walked. Sorted and without duplicates. A PATH that does not exist, or a run
 * that finds no image at all, is a UsageError.
 */
export async function findImages(paths: readonly string[], warn: (m: string) => void = () => undefined): Promise<string[]> {
  const found: string[] = []
  const seen = new Set<string>()
  for (const p of paths) {
    let s
    try {
      s = await stat(p)
    } catch (err) {
      const code = errorCode(err)
      throw new UsageError(code === 'ENOENT' ? `no such file or folder: ${p}` : `cannot read ${p} (${code || String(err)})`)
    }
    if (s.isDirectory()) await walk(p, seen, found, warn)
    else if (s.isFile()) found.push(p)
    else throw new UsageError(`${p} is neither a file nor a folder`)
  }
  const files = [...new Set(found)].sort(byCodePoint)
  if (files.length === 0) throw new UsageError(`no images (${[...IMAGE_EXTENSIONS].join(' ')}) found in ${paths.join(', ')}`)
  return files
}
