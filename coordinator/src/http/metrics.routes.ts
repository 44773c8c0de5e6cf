import type { FastifyPluginAsync } from 'fastify'
import type { PrometheusMetrics } from '../metrics/prometheus-metrics.ts'

export const metricsRoutes: FastifyPluginAsync<{ metrics: PrometheusMetrics }> = async (app, { metrics }) => {
  app.get('/metrics', { schema: { tags: ['operations'], summary: 'Prometheus metrics' } }, async (_req, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()))
}
