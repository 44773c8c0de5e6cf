import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildApp, createApiKey, createDb, loadConfig, migrateToLatest, type Coordinator } from '@hivesight/coordinator'
import { findChromium } from '@hivesight/worker-runtime/chromium-path'
import { PagePool } from '@hivesight/worker-runtime/page-pool'

export interface LocalCoordinator extends Coordinator {
  url: string
  dataDir: string
  /** The built-in model's folder (imported as its version 1). */
  modelDir: string
  /** A new API key for this coordinator (keys mode), with rights (admin: join links; volunteers: its jobs may go to tabs). */
  apiKey(name: string, rights?: { admin?: boolean; volunteers?: boolean }): Promise<string>
  close(): Promise<void>
}

/** A real coordinator in this process on a free port, with the embedded database in a temp folder. */
export async function startLocalCoordinator(env: Record<string, string> = {}): Promise<LocalCoordinator> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hivesight-'))
  // Open mode, chosen explicitly: a throwaway coordinator on loopback for tests and benchmarks.
  const config = loadConfig({ ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, AUTH_MODE: 'open', ...env })
  const db = config.databaseUrl ? createDb({ databaseUrl: config.databaseUrl }) : createDb({ sqliteFile: join(dataDir, 'hivesight.sqlite') })
  await migrateToLatest(db.kysely)
  const coordinator = await buildApp({ config, db, logger: env.LOG_LEVEL ? { level: env.LOG_LEVEL } : false })
  // HOST widens it (e.g. 0.0.0.0, for a browser on another loopback address such as 127.0.1.1).
  await coordinator.app.listen({ host: env.HOST ?? '127.0.0.1', port: 0 })
  const address = coordinator.app.server.address()
  if (!address || typeof address === 'string') throw new Error('the coordinator has no TCP address')
  return {
    ...coordinator,
    url: `http://127.0.0.1:${address.port}`,
    dataDir,
    modelDir: config.modelDir,
    apiKey: async (name, rights) => (await createApiKey(db, name, Date.now(), rights)).key,
    close: async () => {
      await coordinator.app.close()
      await db.kysely.destroy()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** Headless Chromium worker pages joined to `url`; resolves once every page is connected. */
export async function startHeadlessWorkers(url: string, pages: number, log: (m: string) => void = () => undefined, workerToken?: string): Promise<PagePool> {
  const pool = new PagePool({ coordinatorUrl: url, pages, executablePath: findChromium(), name: 'test', log, token: workerToken })
  await pool.start()
  return pool
}

/** Resolves when `cond` holds, polling; rejects after `timeoutMs` with `what` in the message. */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
