import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { UsageError } from '../../src/cli/classify-args.ts'
import { findImages, isImageName } from '../../src/cli/classify-files.ts'

// The folder walk of `npm run classify`, on real temp folders.
const T = { timeout: 10_000 }
let root: string

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'hivesight-walk-'))
  const files = [
    'a/b.jpg', 'a/A.JPEG', 'a/c.png', 'a/d.webp', 'a/e.gif', 'a/f.bmp', 'a/notes.txt', 'a/noext',
    'a/deep/er/g.Jpg', 'a/.hidden.jpg', 'a/._b.jpg', 'a/.git/h.jpg', 'z.png', 'other/i.jpg',
  ]
  for (const f of files) {
    await mkdir(join(root, f, '..'), { recursive: true })
    await writeFile(join(root, f), f)
  }
  await symlink(join(root, 'a'), join(root, 'a', 'deep', 'loop'))
  await symlink(join(root, 'other', 'i.jpg'), join(root, 'a', 'link.jpg'))
  await symlink(join(root, 'nowhere.jpg'), join(root, 'a', 'broken.jpg'))
  await mkdir(join(root, 'empty'))
})

after(async () => {
  await rm(root, { recursive: true, force: true })
})

test('image extensions, any case', T, () => {
  for (const n of ['x.jpg', 'x.JPG', 'x.jpeg', 'x.png', 'x.webp', 'x.gif', 'x.BMP']) assert.ok(isImageName(n), n)
  for (const n of ['x.txt', 'x', 'jpg', 'x.jpg.txt', 'x.tiff']) assert.ok(!isImageName(n), n)
})

test('folders walked recursively: images only, hidden entries skipped, links followed, loops end; sorted', T, async () => {
  const warnings: string[] = []
  const found = await findImages([join(root, 'a')], (m) => warnings.push(m))
  assert.deepEqual(found.map((p) => p.slice(root.length + 1)), [
    'a/A.JPEG', 'a/b.jpg', 'a/c.png', 'a/d.webp', 'a/deep/er/g.Jpg', 'a/e.gif', 'a/f.bmp', 'a/link.jpg',
  ])
  assert.equal(warnings.length, 1)
  assert.match(warnings[0]!, /broken\.jpg is a broken link/)
})

test('several paths: files named as they are (any extension), folders walked, duplicates once, all sorted', T, async () => {
  const found = await findImages([join(root, 'z.png'), join(root, 'a', 'notes.txt'), join(root, 'other'), join(root, 'other', 'i.jpg'), join(root, 'z.png')])
  assert.deepEqual(found.map((p) => p.slice(root.length + 1)), ['a/notes.txt', 'other/i.jpg', 'z.png'])
})

test('a missing path, or no image at all, is a usage error', T, async () => {
  await assert.rejects(findImages([join(root, 'missing')]), (e: unknown) => e instanceof UsageError && /no such file or folder/.test(e.message))
  await assert.rejects(findImages([join(root, 'empty')]), (e: unknown) => e instanceof UsageError && /no images \(\.jpg/.test(e.message))
})
