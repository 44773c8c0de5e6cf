// The catalogue of errors the API can answer with: a stable code, the HTTP status that fits, and a
// message a person can act on. Domain code throws these; http/error-handler.ts renders them.
export const ERROR_STATUS = {
  NO_IMAGE: 400,
  BAD_REQUEST: 400,
  INVALID_CURSOR: 400,
  JOB_NOT_FOUND: 404,
  NOT_FOUND: 404,
  IMAGE_TOO_LARGE: 413,
  TOO_MANY_IMAGES: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNSUPPORTED_IMAGE_TYPE: 415,
  IMAGE_INVALID: 422,
  SERVICE_UNAVAILABLE: 503,
} as const
export type ErrorCode = keyof typeof ERROR_STATUS

export class AppError extends Error {
  readonly status: number
  constructor(readonly code: ErrorCode, message: string) {
    super(message)
    this.status = ERROR_STATUS[code]
  }
}
