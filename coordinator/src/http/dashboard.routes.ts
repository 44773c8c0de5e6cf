import fastifyStatic from '@fastify/static'
import type { FastifyPluginAsync } from 'fastify'
import { dashboardDir } from '@hivesight/dashboard'

/** The dashboard's static files at `/`; it reads everything else through the public API. */
export const dashboardRoutes: FastifyPluginAsync = async (app) => {
  await app.register(fastifyStatic, {
    root: dashboardDir, prefix: '/', decorateReply: false, list: false, index: ['index.html'], wildcard: false,
    cacheControl: false, setHeaders: (reply) => void reply.header('cache-control', 'no-cache'),
  })
}
