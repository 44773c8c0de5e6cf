// The catalogue of errors the API can answer with: a stable code, the HTTP status that fits, and a
// message a person can act on. Domain code throws these; http/error-handler.ts renders them.
export const ERROR_STATUS = {
  NO_IMAGE: 400,
  BAD_REQUEST: 400,
  INVALID_CURSOR: 400,
  API_KEY_IN_URL: 400,
  API_KEY_REQUIRED: 401,
  API_KEY_INVALID: 401,
  METRICS_TOKEN_REQUIRED: 401,
  ADMIN_KEY_REQUIRED: 403,
  JOIN_LINK_NOT_FOUND: 404,
  JOB_NOT_FOUND: 404,
  MODEL_NOT_FOUND: 404,
  MODEL_NOT_READY: 503,
  MODEL_INVALID: 422,
  MODEL_EXISTS: 409,
  MODEL_IN_USE: 409,
  VERSION_NOT_READY: 409,
  JOB_ALREADY_FINISHED: 409,
  JOB_NOT_DEAD: 409,
  JOINING_DISABLED: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  NOT_FOUND: 404,
  IMAGE_TOO_LARGE: 413,
  TOO_MANY_IMAGES: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNSUPPORTED_IMAGE_TYPE: 415,
  IMAGE_INVALID: 422,
  IMAGE_TOO_MANY_PIXELS: 422,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
  SHUTTING_DOWN: 503,
} as const
export type ErrorCode = keyof typeof ERROR_STATUS

export class AppError extends Error {
  readonly status: number
  /** Seconds for a Retry-After header (503, 429). */
  readonly retryAfter: number | undefined
  /** Each thing wrong with a request that has several (a model upload): which file, which rule. */
  readonly problems: { file: string; rule: string; message: string }[] | undefined
  constructor(readonly code: ErrorCode, message: string, opts: { retryAfter?: number; problems?: { file: string; rule: string; message: string }[] } = {}) {
    super(message)
    this.status = ERROR_STATUS[code]
    this.retryAfter = opts.retryAfter
    this.problems = opts.problems
  }
}
