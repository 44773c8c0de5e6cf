import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyPluginAsync } from 'fastify'
import { pageAssets } from '@hivesight/worker-runtime'
import { AppError } from '../errors/app-errors.ts'

const IMMUTABLE = 'public, max-age=31536000, immutable'
// Cross-origin isolation lets tfjs use its multi-threaded wasm build on machines with cores to spare.
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' }

export interface WorkerPageConfig {
  /** Descriptors of model versions are at `${modelsPath}{id}/descriptor.json`, their files beside them. */
  modelsPath: string
  /** Versions to load before joining (the default model), so the first jobs do not wait for a load. */
  preload: string[]
  wasmPath: string
  socketPath: string
}

/** The worker page (the same for headless runtimes and volunteer tabs), its bundle and the wasm binaries. */
export const workerPageRoutes: FastifyPluginAsync<{ preload: () => Promise<string[]> }> = async (app, { preload }) => {
  const wasmPath = `/wasm/${pageAssets.wasmVersion}/`
  const indexFile = join(pageAssets.pageDir, 'index.html')

  app.get('/worker', { schema: { hide: true } }, async (_req, reply) => {
    if (!existsSync(indexFile)) throw new AppError('SERVICE_UNAVAILABLE', 'the worker page is not built: run `npm run build`')
    return reply.headers({ ...ISOLATION, 'cache-control': 'no-cache' }).type('text/html; charset=utf-8').send(readFileSync(indexFile))
  })
  app.get('/worker/config.json', { schema: { hide: true } }, async (_req, reply) => {
    const config: WorkerPageConfig = { modelsPath: '/models/v/', preload: await preload(), wasmPath, socketPath: '/ws/worker' }
    return reply.header('cache-control', 'no-store').send(config)
  })

  const staticOpts = { decorateReply: false, index: false as const, list: false as const, cacheControl: false, etag: true }
  await app.register(fastifyStatic, {
    ...staticOpts, root: join(pageAssets.pageDir, 'assets'), prefix: '/worker/assets/',
    // The inference Web Worker's script brings its own COEP: a worker is isolated (and may run wasm
    // threads) only if its script response says so.
    setHeaders: (reply) => void reply.header('cache-control', IMMUTABLE).headers(ISOLATION),
  })
  await app.register(fastifyStatic, {
    ...staticOpts, root: pageAssets.wasmDir, prefix: wasmPath,
    allowedPath: (path) => path.endsWith('.wasm'),
    setHeaders: (reply) => void reply.header('cache-control', IMMUTABLE),
  })
}
