import type { Problem } from '@hivesight/protocol'

const TITLES: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  406: 'Not Acceptable', 409: 'Conflict', 413: 'Content Too Large', 415: 'Unsupported Media Type',
  422: 'Unprocessable Content', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable',
}

/** An RFC 9457 body; `type` is a stable URN per code, so clients can switch on either. */
export function problem(status: number, code: string, detail: string): Problem {
  return { type: `urn:hivesight:problem:${code.toLowerCase().replaceAll('_', '-')}`, title: TITLES[status] ?? 'Error', status, code, detail }
}
