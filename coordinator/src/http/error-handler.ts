import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { isUnavailable } from '../db/create-db.ts'
import { AppError } from '../errors/app-errors.ts'
import { problem } from './problem.ts'

// Fastify and @fastify/multipart errors a client causes, mapped to our stable codes.
const CLIENT_ERRORS: Record<string, { code: string; status: number; detail?: string }> = {
  FST_REQ_FILE_TOO_LARGE: { code: 'IMAGE_TOO_LARGE', status: 413 },
  FST_FILES_LIMIT: { code: 'TOO_MANY_IMAGES', status: 413 },
  FST_PARTS_LIMIT: { code: 'TOO_MANY_PARTS', status: 413 },
  FST_FIELDS_LIMIT: { code: 'TOO_MANY_FIELDS', status: 413 },
  FST_INVALID_MULTIPART_CONTENT_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', status: 415, detail: 'send the images as multipart/form-data' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', status: 415 },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'BODY_TOO_LARGE', status: 413 },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'INVALID_JSON', status: 400 },
  // Broken JSON, and `__proto__` / `constructor.prototype` keys (refused by Fastify's secure parser).
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'INVALID_JSON', status: 400 },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'BAD_REQUEST', status: 400 },
}

const GENERIC_CODES: Record<number, string> = { 404: 'NOT_FOUND', 408: 'REQUEST_TIMEOUT', 413: 'BODY_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE', 429: 'RATE_LIMITED' }

export function errorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof AppError) {
    if (err.retryAfter !== undefined) reply.header('retry-after', String(err.retryAfter))
    return reply.code(err.status).type('application/problem+json').send(err.problems ? { ...problem(err.status, err.code, err.message), problems: err.problems } : problem(err.status, err.code, err.message))
  }
  if (err.validation) {
    return reply.code(400).type('application/problem+json').send(problem(400, 'VALIDATION_FAILED', `${err.validationContext ?? 'request'} ${err.message}`))
  }
  const known = err.code ? CLIENT_ERRORS[err.code] : undefined
  if (known) {
    return reply.code(known.status).type('application/problem+json').send(problem(known.status, known.code, known.detail ?? err.message))
  }
  const status = err.statusCode ?? 500
  if (status >= 400 && status < 500) {
    // Framework codes (FST_…) are not part of our contract: a client sees a stable one per status.
    return reply.code(status).type('application/problem+json').send(problem(status, GENERIC_CODES[status] ?? 'BAD_REQUEST', err.message))
  }
  if (isUnavailable(err)) {
    req.log.warn({ err }, 'the database is unavailable')
    reply.header('retry-after', '2')
    return reply.code(503).type('application/problem+json').send(problem(503, 'SERVICE_UNAVAILABLE', 'the database is unreachable right now; nothing was changed, retry in a few seconds'))
  }
  req.log.error({ err }, 'unhandled error')
  return reply.code(500).type('application/problem+json').send(problem(500, 'INTERNAL', 'something went wrong on our side; the request id is in the logs'))
}
