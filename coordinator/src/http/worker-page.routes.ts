import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyPluginAsync } from 'fastify'
import { pageAssets } from '@hivesight/worker-runtime'
import { AppError } from '../errors/app-errors.ts'
import type { ModelFiles } from '../model/model-files.ts'

const IMMUTABLE = 'public, max-age=31536000, immutable'
// Cross-origin isolation lets tfjs use its multi-threaded wasm build on machines with cores to spare.
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' }

export interface WorkerPageConfig {
  modelUrl: string
  wasmPath: string
  socketPath: string
}

/** The worker page (the same for headless runtimes and volunteer tabs), its bundle, the wasm binaries and the model. */
export const workerPageRoutes: FastifyPluginAsync<{ model: ModelFiles }> = async (app, { model }) => {
  const wasmPath = `/wasm/${pageAssets.wasmVersion}/`
  const config: WorkerPageConfig = { modelUrl: model.modelUrl, wasmPath, socketPath: '/ws/worker' }
  const indexFile = join(pageAssets.pageDir, 'index.html')

  app.get('/worker', { schema: { hide: true } }, async (_req, reply) => {
    if (!existsSync(indexFile)) throw new AppError('SERVICE_UNAVAILABLE', 'the worker page is not built: run `npm run build`')
    return reply.headers({ ...ISOLATION, 'cache-control': 'no-cache' }).type('text/html; charset=utf-8').send(readFileSync(indexFile))
  })
  app.get('/worker/config.json', { schema: { hide: true } }, async (_req, reply) => reply.header('cache-control', 'no-store').send(config))

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
  const modelFiles = /^(model\.json|labels\.json|group\d+-shard\d+of\d+\.bin)$/
  await app.register(fastifyStatic, {
    ...staticOpts, root: model.dir, prefix: model.urlPrefix,
    allowedPath: (path) => modelFiles.test(path.replace(/^\//, '')),
    setHeaders: (reply) => void reply.header('cache-control', IMMUTABLE),
  })
}
