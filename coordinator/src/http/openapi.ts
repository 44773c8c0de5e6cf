import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'

/**
 * The OpenAPI document is generated from the route schemas (so it cannot drift from what is validated),
 * served at /api/v1/openapi.json, with Swagger UI at /api/docs. Register before the routes.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Hivesight API',
        version: '1.0.0',
        description: 'Upload images, get ImageNet top-5 labels (MobileNet V2). Errors are application/problem+json with a stable `code`.',
      },
      tags: [{ name: 'jobs' }, { name: 'workers' }, { name: 'operations' }],
    },
  })
  await app.register(swaggerUi, { routePrefix: '/api/docs', uiConfig: { url: '/api/v1/openapi.json' } as Record<string, unknown> })
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}
