import type { FastifyPluginAsync } from 'fastify'
import { sameSecret } from '../auth/same-secret.ts'
import { AppError } from '../errors/app-errors.ts'
import type { PrometheusMetrics } from '../metrics/prometheus-metrics.ts'

/** `token`: METRICS_TOKEN; when set, scrapers send it as a Bearer token (Prometheus `authorization`). */
export const metricsRoutes: FastifyPluginAsync<{ metrics: PrometheusMetrics; token: string | null }> = async (app, { metrics, token }) => {
  app.get('/metrics', { schema: { tags: ['operations'], summary: 'Prometheus metrics' } }, async (req, reply) => {
    if (token !== null) {
      if (!sameSecret(req.headers.authorization?.replace(/^Bearer\s+/i, '') ?? '', token)) {
        throw new AppError('METRICS_TOKEN_REQUIRED', 'send the METRICS_TOKEN as Authorization: Bearer <token>')
      }
    }
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics())
  })
}
