import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { createApiKey, type KeyRights } from '../../src/auth/api-keys.ts'
import { buildApp, type Coordinator } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import type { Db, Dialect } from '../../src/db/create-db.ts'
import { FakeClock } from '../../src/jobs/clock.ts'
import { freshStore, type Store } from './databases.ts'

export interface TestApp extends Coordinator {
  clock: FakeClock
  dataDir: string
  db: Db
  /** A fresh API key (for keys mode); `rights`: admin (join links), volunteers (its jobs may go to volunteer tabs). */
  apiKey(name?: string, rights?: KeyRights): Promise<string>
}

/**
 * A coordinator on a fresh database, closed when the test ends: `store` (a SQLite file goes in its DATA_DIR,
 * as in production), else `dialect` (SQLite in memory unless told otherwise).
 */
export async function buildTestApp(t: TestContext, opts: { dialect?: Dialect; store?: Store; env?: Record<string, string>; sharedDb?: Db; random?: () => number } = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hivesight-test-'))
  const store = opts.store ?? (opts.dialect === 'mariadb' ? 'mariadb' : 'sqlite-memory')
  // A database shared with another test coordinator (several coordinators, one database) is closed by its owner.
  const { db, close } = opts.sharedDb ? { db: opts.sharedDb, close: async () => undefined } : await freshStore(store, dataDir)
  const config = loadConfig({ ...process.env, DATA_DIR: dataDir, AUTH_MODE: 'open', ...opts.env })
  const clock = new FakeClock(Date.now())
  const coordinator = await buildApp({ config, db, clock, logger: false, random: opts.random })
  t.after(async () => {
    await coordinator.app.close()
    await close()
    rmSync(dataDir, { recursive: true, force: true })
  })
  return { ...coordinator, clock, dataDir, db, apiKey: async (name = 'test', rights = {}) => (await createApiKey(db, name, Date.now(), rights)).key }
}

/** A multipart body for app.inject, without a client library. */
export function multipart(files: { field?: string; name: string; type?: string; data: Buffer }[], fields: Record<string, string> = {}): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----hivesight${Math.random().toString(16).slice(2)}`
  const chunks: Buffer[] = []
  for (const [k, v] of Object.entries(fields)) {
    chunks.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`))
  }
  for (const f of files) {
    chunks.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${f.field ?? 'image'}"; filename="${f.name}"\r\ncontent-type: ${f.type ?? 'image/jpeg'}\r\n\r\n`))
    chunks.push(f.data, Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}
