import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { REPO_ROOT } from '@hivesight/coordinator'
import type { JobPage } from '@hivesight/protocol'
import type { PagePool } from '@hivesight/worker-runtime/page-pool'
import { readResults } from '../../coordinator/src/cli/classify-resume.ts'
import type { ResultRow } from '../../coordinator/src/cli/classify-output.ts'
import { startHeadlessWorkers, startLocalCoordinator, until, type LocalCoordinator } from '../src/harness/local-system.ts'

// `npm run classify` as a user runs it (a child process) against a real coordinator (API keys, as deployed)
// with a real headless Chromium worker and the real model: interrupted with SIGINT, resumed, and checked
// for every image exactly once and exactly one job per image on the coordinator.
const DATASET = process.env.DATASET_DIR ?? resolve(REPO_ROOT, '../shared/datasets/imagenet-val-dev')
const N_IMAGES = 12
const T = { timeout: 180_000 }
const SECRETS = { AUTH_MODE: 'keys', WORKER_TOKEN: randomBytes(24).toString('base64url') }

interface Finished { code: number | null; signal: NodeJS.Signals | null; out: string; err: string }

function startCli(args: string[]): { child: ChildProcess; done: Promise<Finished> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'coordinator/src/cli/classify.ts', ...args], {
    cwd: REPO_ROOT, env: { ...process.env, HIVESIGHT_URL: system.url, HIVESIGHT_API_KEY: apiKey }, stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()))
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()))
  const done = new Promise<Finished>((resolveDone) => child.once('exit', (code, signal) => resolveDone({ code, signal, out, err: err.slice(-3000) })))
  return { child, done }
}

const runCli = (args: string[]) => startCli(args).done

function rowsOf(file: string, format: 'csv' | 'jsonl'): ResultRow[] {
  if (!existsSync(file)) return []
  const read = readResults(readFileSync(file, 'utf8'), format)
  assert.equal(read.error, undefined)
  return read.rows
}

/** Every job of this key, through the API (newest first, all pages). */
async function jobCount(): Promise<number> {
  let n = 0
  let cursor: string | null = null
  do {
    const res: Response = await fetch(`${system.url}/api/v1/jobs?limit=500${cursor ? `&cursor=${cursor}` : ''}`, { headers: { authorization: `Bearer ${apiKey}` } })
    assert.equal(res.status, 200)
    const page = (await res.json()) as JobPage
    n += page.jobs.length
    cursor = page.nextCursor
  } while (cursor)
  return n
}

const imagesPerSecond = (out: string) => Number(/([\d.]+) images\/s/.exec(out)?.[1] ?? NaN)

let system: LocalCoordinator
let workers: PagePool | undefined
let apiKey: string
let work: string
let images: string[]

before(async () => {
  assert.ok(existsSync(DATASET), `the development images are expected at ${DATASET} (set DATASET_DIR)`)
  work = mkdtempSync(join(tmpdir(), 'hivesight-classify-'))
  // 12 images, half of them in a sub-folder two levels down, and a file the walk must leave alone.
  const source = join(DATASET, 'val-orig')
  const picked = readdirSync(source).filter((f) => /\.jpe?g$/i.test(f)).sort().slice(0, N_IMAGES)
  assert.equal(picked.length, N_IMAGES)
  mkdirSync(join(work, 'photos', 'sub', 'deeper'), { recursive: true })
  images = picked.map((f, i) => join(work, 'photos', ...(i % 2 ? ['sub', 'deeper'] : []), f))
  picked.forEach((f, i) => copyFileSync(join(source, f), images[i]!))
  writeFileSync(join(work, 'photos', 'notes.txt'), 'not an image')
  system = await startLocalCoordinator(SECRETS)
  apiKey = await system.apiKey('classify-cli')
  workers = await startHeadlessWorkers(system.url, 1, undefined, SECRETS.WORKER_TOKEN)
  await until(() => system.registry.size === 1, 60_000, 'the headless worker page to connect')
})

after(async () => {
  await workers?.stop()
  await system?.close()
  if (work) rmSync(work, { recursive: true, force: true })
})

test('interrupted by SIGINT (exit 130), resumed to the end (exit 0): every image once, all succeeded, one job per image', T, async () => {
  const out = join(work, 'results.jsonl')
  const args = [join(work, 'photos'), '--out', out, '--concurrency', '2']
  const t0 = Date.now()
  const first = startCli(args)
  await until(() => rowsOf(out, 'jsonl').length >= 3, 60_000, 'the first three results in the output file')
  first.child.kill('SIGINT')
  const r1 = await first.done
  assert.equal(r1.code, 130, `exit ${r1.code} ${r1.signal ?? ''}: ${r1.err}`)
  const afterFirst = rowsOf(out, 'jsonl')
  assert.ok(afterFirst.length >= 3 && afterFirst.length < N_IMAGES, `${afterFirst.length} rows after the interrupted run`)
  assert.match(r1.err, /stopping: no new uploads/)
  assert.match(r1.out, /run the same command again/)

  const t1 = Date.now()
  const r2 = await runCli(args)
  const secondMs = Date.now() - t1
  assert.equal(r2.code, 0, r2.err)
  assert.match(r2.out, new RegExp(`${N_IMAGES - afterFirst.length} succeeded, 0 failed, ${afterFirst.length} skipped`))
  // Without a terminal: plain progress lines, no bar.
  assert.match(r2.err, new RegExp(`classify: ${N_IMAGES - afterFirst.length}/${N_IMAGES - afterFirst.length} done, 0 failed`))

  const rows = rowsOf(out, 'jsonl')
  assert.deepEqual(rows.map((r) => r.path).sort(), [...images].sort(), 'every image exactly once, nothing else')
  for (const r of rows) {
    assert.equal(r.status, 'succeeded', `${r.path}: ${r.error}`)
    assert.ok(r.jobId && r.model && r.version === 1 && r.top1Label && r.top1Score !== null)
    assert.equal(r.top5?.length, 5)
  }
  assert.equal(new Set(rows.map((r) => r.jobId)).size, N_IMAGES)
  assert.equal(await jobCount(), N_IMAGES, 'no duplicate jobs on the coordinator')

  // A third run has nothing to do.
  const r3 = await runCli(args)
  assert.equal(r3.code, 0, r3.err)
  assert.match(r3.out, new RegExp(`nothing to do: all ${N_IMAGES} images already succeeded`))
  console.log(`# classify-cli: interrupted run ${afterFirst.length} images (${imagesPerSecond(r1.out)} images/s), resumed run ${N_IMAGES - afterFirst.length} images in ${(secondMs / 1000).toFixed(1)} s (${imagesPerSecond(r2.out)} images/s, process start included), all ${N_IMAGES} in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
})

test('a corrupt .jpg: exit 1, its row failed with the reason; a re-run retries it and skips the rest; still one job per image', T, async () => {
  const dir = join(work, 'with-corrupt')
  mkdirSync(dir)
  // Two images already classified above (same bytes, same names, same key: their earlier jobs come back).
  for (const p of images.slice(0, 2)) copyFileSync(p, join(dir, p.split('/').pop()!))
  writeFileSync(join(dir, 'broken.jpg'), randomBytes(4096))
  const out = join(work, 'results.csv')
  const r1 = await runCli([dir, '--out', out])
  assert.equal(r1.code, 1, r1.err)
  assert.match(r1.out, /2 succeeded, 1 failed, 0 skipped/)
  assert.match(r1.out, /failed: .*broken\.jpg: upload refused: 415 UNSUPPORTED_IMAGE_TYPE/)
  const rows = rowsOf(out, 'csv')
  assert.equal(rows.length, 3)
  const broken = rows.find((r) => r.path.endsWith('broken.jpg'))!
  assert.equal(broken.status, 'failed')
  assert.equal(broken.jobId, null)
  assert.match(broken.error ?? '', /415 UNSUPPORTED_IMAGE_TYPE: .+/)
  assert.deepEqual(rows.filter((r) => r !== broken).map((r) => r.status), ['succeeded', 'succeeded'])

  const r2 = await runCli([dir, '--out', out])
  assert.equal(r2.code, 1, r2.err)
  assert.match(r2.out, /0 succeeded, 1 failed, 2 skipped/)
  assert.deepEqual(rowsOf(out, 'csv').map((r) => `${r.path.split('/').pop()} ${r.status}`).sort(), [
    ...images.slice(0, 2).map((p) => `${p.split('/').pop()} succeeded`), 'broken.jpg failed', 'broken.jpg failed',
  ].sort())
  assert.equal(await jobCount(), N_IMAGES, 'the two images sent again got their earlier jobs')
})
