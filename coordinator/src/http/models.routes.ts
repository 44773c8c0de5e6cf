import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type {} from '@fastify/multipart'
import { LABEL_NAME_PATTERN, LabelMove, MODEL_NAME_PATTERN, ModelList, ModelVersionView, ModelView, Problem } from '@hivesight/protocol'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import type { ApiKeyVerifier } from '../auth/api-keys.ts'
import { AppError } from '../errors/app-errors.ts'
import { contentOf } from '../models/model-identity.ts'
import type { ModelRepository } from '../models/model-repository.ts'
import { validateModelUpload, type UploadedModelFile } from '../models/model-validator.ts'
import { requireApiKey, type AuthMode } from './auth.ts'

export interface ModelsRoutesOptions {
  models: ModelRepository
  authMode: AuthMode
  verifier: ApiKeyVerifier
  maxModelBytes: number
  maxModelClasses: number
  /** A version was stored: start its smoke test now rather than at the next tick. */
  uploaded(): void
}

const NameParam = Type.Object({ name: Type.String({ pattern: MODEL_NAME_PATTERN }) })
export const MAX_FILES = 200

/** Changing what a cluster serves is an admin key's business (open mode has no keys: anyone who reaches it). */
function requireAdmin(req: FastifyRequest, mode: AuthMode, what: string): void {
  if (mode === 'keys' && !req.principal?.admin) {
    throw new AppError('ADMIN_KEY_REQUIRED', `${what} needs an admin key: create one with \`npm run keys -- create --name NAME --admin\``)
  }
}

/** The upload's fields and files; a file part is named by its filename (model.json, group1-shard1of4.bin, metadata.json…). */
async function readModelUpload(req: FastifyRequest, maxBytes: number): Promise<{ fields: Map<string, string>; files: UploadedModelFile[] }> {
  if (!req.isMultipart()) throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'send the model as multipart/form-data: a field "name", then model.json, its weight files and metadata.json or hivesight.json')
  const fields = new Map<string, string>()
  const files: UploadedModelFile[] = []
  let total = 0
  const tooLarge = (file: string, message: string) => new AppError('MODEL_INVALID', `the upload is larger than MAX_MODEL_BYTES (${maxBytes} bytes)`, { problems: [{ file, rule: 'too-large', message }] })
  let current = '(all files)'
  try {
    for await (const part of req.parts({ limits: { fileSize: maxBytes, files: MAX_FILES, parts: MAX_FILES + 10 } })) {
      if (part.type === 'field') {
        fields.set(part.fieldname, String(part.value))
        continue
      }
      current = (part.filename || part.fieldname).split(/[\\/]/).pop()!
      const bytes = await part.toBuffer()
      total += bytes.length
      if (total > maxBytes) throw tooLarge('(all files)', `The files together are over ${maxBytes} bytes, the most MAX_MODEL_BYTES allows.`)
      files.push({ name: current, bytes })
    }
  } catch (err) {
    // The multipart limits' own errors speak of images (the jobs routes' wording): say what they mean here.
    const code = err instanceof Error && 'code' in err ? err.code : undefined
    if (code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge(current, `${current} alone is over ${maxBytes} bytes, the most MAX_MODEL_BYTES allows.`)
    if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT') {
      throw new AppError('MODEL_INVALID', `the upload has more than ${MAX_FILES} files`, { problems: [{ file: '(all files)', rule: 'too-large', message: `The upload has more than ${MAX_FILES} files; a model is model.json, its weight files and one manifest.` }] })
    }
    throw err
  }
  return { fields, files }
}

/** The model repository's API: list, upload (validated, then smoke-tested on a page), labels, removal. */
export const modelsRoutes: FastifyPluginAsyncTypebox<ModelsRoutesOptions> = async (app, opts) => {
  const { models, authMode } = opts
  requireApiKey(app, authMode, opts.verifier)

  app.get('/api/v1/models', {
    schema: { tags: ['models'], summary: 'Every model with its versions (state, smoke test, which workers hold it) and labels', response: { 200: ModelList } },
  }, async () => ({ models: await models.list() }))

  app.get('/api/v1/models/:name', {
    schema: { tags: ['models'], summary: 'One model', params: NameParam, response: { 200: ModelView, 404: Problem } },
  }, async (req) => models.view(req.params.name))

  app.post('/api/v1/models', {
    bodyLimit: opts.maxModelBytes + 1024 * 1024,
    schema: {
      tags: ['models'],
      summary: 'Upload a model version (multipart: field "name", optional "label"; files model.json, its shards, and metadata.json or hivesight.json). 202: stored and validating until a worker page has run it',
      consumes: ['multipart/form-data'],
      response: { 202: ModelVersionView, 400: Problem, 403: Problem, 409: Problem, 413: Problem, 415: Problem, 422: Problem },
    },
  }, async (req, reply) => {
    requireAdmin(req, authMode, 'uploading a model')
    const { fields, files } = await readModelUpload(req, opts.maxModelBytes)
    const name = fields.get('name') ?? ''
    if (!new RegExp(MODEL_NAME_PATTERN).test(name)) throw new AppError('BAD_REQUEST', 'the field "name" must be a model name: letters, digits, ".", "_" or "-", at most 64, starting with a letter or digit')
    const label = fields.get('label') || undefined
    if (label && !new RegExp(LABEL_NAME_PATTERN).test(label)) throw new AppError('BAD_REQUEST', 'the field "label" must be lower-case letters, digits, "_" or "-" (at most 32)')
    const checked = validateModelUpload(files, { maxModelBytes: opts.maxModelBytes, maxClasses: opts.maxModelClasses })
    if (!checked.ok) {
      const first = checked.problems[0]!
      throw new AppError('MODEL_INVALID', `the model was refused: ${first.message}${checked.problems.length > 1 ? ` (and ${checked.problems.length - 1} more problem${checked.problems.length > 2 ? 's' : ''})` : ''}`, { problems: checked.problems })
    }
    const m = checked.model
    const version = await models.add(name, contentOf(m.format, m.manifest, m.modelJson, m.shards, m.golden), { labelOnReady: label })
    opts.uploaded()
    const view = (await models.view(name)).versions.find((v) => v.id === version.id)!
    return reply.code(202).header('location', `/api/v1/models/${name}`).send(view)
  })

  app.put('/api/v1/models/:name/labels/:label', {
    schema: {
      tags: ['models'], summary: 'Point a label (default, stable, canary…) at a ready version, optionally with a canary share; rollback is pointing it back',
      params: Type.Object({ name: Type.String({ pattern: MODEL_NAME_PATTERN }), label: Type.String({ pattern: LABEL_NAME_PATTERN }) }),
      body: LabelMove,
      response: { 200: ModelView, 403: Problem, 404: Problem, 409: Problem },
    },
  }, async (req) => {
    requireAdmin(req, authMode, 'moving a label')
    return models.moveLabel(req.params.name, req.params.label, req.body)
  })

  app.delete('/api/v1/models/:name/labels/:label', {
    schema: {
      tags: ['models'], summary: 'Remove a label',
      params: Type.Object({ name: Type.String({ pattern: MODEL_NAME_PATTERN }), label: Type.String({ pattern: LABEL_NAME_PATTERN }) }),
      response: { 200: ModelView, 403: Problem, 404: Problem },
    },
  }, async (req) => {
    requireAdmin(req, authMode, 'removing a label')
    return models.removeLabel(req.params.name, req.params.label)
  })

  app.delete('/api/v1/models/:name/versions/:version', {
    schema: {
      tags: ['models'], summary: 'Remove a version no label points at and no unfinished job runs on',
      params: Type.Object({ name: Type.String({ pattern: MODEL_NAME_PATTERN }), version: Type.Integer({ minimum: 1 }) }),
      response: { 204: Type.Null(), 403: Problem, 404: Problem, 409: Problem },
    },
  }, async (req, reply) => {
    requireAdmin(req, authMode, 'removing a model version')
    await models.removeVersion(req.params.name, req.params.version)
    return reply.code(204).send(null)
  })
}
