import type { FastifyInstance } from 'fastify'
import type { ApiKeyVerifier } from '../auth/api-keys.ts'
import type { Config } from '../config.ts'
import type { JobService } from '../jobs/job-service.ts'
import type { ModelRepository } from '../models/model-repository.ts'
import { hfRoutes } from './hf.routes.ts'
import { modelFilesRoutes } from './model-files.routes.ts'
import { modelsRoutes } from './models.routes.ts'
import { oipRoutes } from './oip.routes.ts'

/**
 * Everything served around the model repository: its own API, the version files pages load, and the
 * interfaces clients of other serving systems already speak (Hugging Face's, KServe/Triton's v2).
 */
export async function registerModelApis(app: FastifyInstance, deps: { config: Config; models: ModelRepository; jobs: JobService; verifier: ApiKeyVerifier; uploaded(): void }): Promise<void> {
  const { config, models, jobs, verifier } = deps
  await app.register(modelsRoutes, {
    models, authMode: config.authMode, verifier, maxModelBytes: config.maxModelBytes, maxModelClasses: config.maxModelClasses, uploaded: deps.uploaded,
  })
  await app.register(modelFilesRoutes, { models })
  const compat = {
    jobs, pixelLimits: { maxPixels: config.maxImagePixels, maxSide: config.maxImageSide }, maxImageBytes: config.maxImageBytes,
    maxWaitSeconds: Math.min(30, config.maxWaitSeconds), authMode: config.authMode, verifier, rateLimitPerMinute: config.rateLimitPerMinute, volunteerJobs: config.volunteerJobs,
  }
  await app.register(hfRoutes, compat)
  await app.register(oipRoutes, {
    ...compat, models, maxImages: config.maxImagesPerRequest,
    ready: async () => models.find().then((v) => v.state === 'ready', () => false),
  })
}
