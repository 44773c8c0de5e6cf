import { readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import type { Db } from '../db/create-db.ts'
import { adoptUnversioned } from '../db/model.repository.ts'
import { AppError } from '../errors/app-errors.ts'
import type { Logger } from '../jobs/logger.ts'
import { contentOf, versionId, type VersionContent } from './model-identity.ts'
import type { ResolvedVersion } from './model-lookup.ts'
import type { ModelRepository } from './model-repository.ts'
import { manifestFromImageNetLabels } from './model-validator.ts'

// Read and hashed once per process (14 MB): every start, and every coordinator a test builds, imports it.
const contents = new Map<string, VersionContent>()
function builtInContent(dir: string): VersionContent {
  let c = contents.get(dir)
  if (!c) {
    const modelJson = readFileSync(join(dir, 'model.json'))
    const topology = JSON.parse(modelJson.toString('utf8')) as { weightsManifest?: { paths: string[] }[] }
    const shards = (topology.weightsManifest ?? []).flatMap((g) => g.paths).map((path) => ({ path, bytes: readFileSync(join(dir, path)) }))
    c = contentOf('graph', manifestFromImageNetLabels(JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8'))), modelJson, shards)
    contents.set(dir, c)
  }
  return c
}

/**
 * The shipped MobileNet (MODEL_DIR: a graph model with an ImageNet labels.json) as version 1 of its model,
 * ready and labelled `default` at once: it is the model every deployment ran before the repository, so
 * nothing changes for its users. Jobs from before then are adopted by it. Idempotent across restarts
 * and across coordinators starting together.
 */
export async function importBuiltInModel(models: ModelRepository, db: Db, dir: string, log: Logger): Promise<ResolvedVersion> {
  const name = basename(dir)
  await models.refresh()
  const content = builtInContent(dir)
  let version = await models.byId(versionId(content))
  if (!version) {
    try {
      version = await models.add(name, content, { state: 'ready' })
      log.info({ model: name, version: version.version, id: version.id }, 'imported the built-in model into the model repository')
    } catch (err) {
      // Another coordinator imported it at the same moment.
      if (!(err instanceof AppError && err.code === 'MODEL_EXISTS')) throw err
      await models.refresh()
      version = await models.byId(versionId(content))
      if (!version) throw err
    }
  }
  await adoptUnversioned(db.kysely, version.id)
  return version
}
