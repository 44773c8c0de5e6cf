import { existsSync } from 'node:fs'
import { join } from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyPluginAsync } from 'fastify'
import { dashboardDir } from '@hivesight/dashboard'
import { AppError } from '../errors/app-errors.ts'

// The tab holds an API key and makes join links: no inline script or style, nothing from other hosts,
// and no other site may frame it. Frames of /worker (volunteering) and blob: previews of uploads are allowed.
export const DASHBOARD_CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' blob: data:", "connect-src 'self'",
  "frame-src 'self'", "worker-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ')

const PAGE_HEADERS = {
  'content-security-policy': DASHBOARD_CSP,
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  // Cross-origin isolated like /worker, so a volunteer frame of /worker is isolated too (wasm threads).
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
}

/** The dashboard (dashboard/, built by `npm run build` into dist/) at `/`; it reads everything through the public API. */
export const dashboardRoutes: FastifyPluginAsync = async (app) => {
  if (!existsSync(join(dashboardDir, 'index.html'))) {
    app.get('/', { schema: { hide: true } }, async () => {
      throw new AppError('SERVICE_UNAVAILABLE', 'the dashboard is not built: run `npm run build`')
    })
    return
  }
  await app.register(fastifyStatic, {
    root: dashboardDir, prefix: '/', decorateReply: false, list: false, index: ['index.html'], wildcard: false,
    cacheControl: false,
    setHeaders: (reply, path) => {
      // Bundles carry a content hash in their names; the page itself is checked every time.
      reply.header('cache-control', path.startsWith(join(dashboardDir, 'assets')) ? 'public, max-age=31536000, immutable' : 'no-cache')
      for (const [k, v] of Object.entries(PAGE_HEADERS)) reply.header(k, v)
    },
  })
}
