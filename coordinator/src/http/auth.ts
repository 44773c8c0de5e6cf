import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ApiKeyVerifier, Principal } from '../auth/api-keys.ts'
import { AppError } from '../errors/app-errors.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** The API key's owner; null in open mode. */
    principal: Principal | null
  }
}

export type AuthMode = 'keys' | 'open'

// A key in a URL ends up in logs, proxies and browser history: refuse it outright.
const KEY_IN_QUERY = /[?&](api[_-]?key|key|token|access[_-]?token)=/i

function presentedKey(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization
  if (auth?.toLowerCase().startsWith('bearer ')) return auth.slice(7).trim()
  const header = req.headers['x-api-key']
  return typeof header === 'string' ? header.trim() : undefined
}

/** Adds API-key authentication to every route of the (encapsulated) plugin it is called in. */
export function requireApiKey(app: FastifyInstance, mode: AuthMode, verifier: ApiKeyVerifier): void {
  app.decorateRequest('principal', null)
  app.addHook('onRequest', async (req) => {
    if (KEY_IN_QUERY.test(req.url)) {
      throw new AppError('API_KEY_IN_URL', 'never put an API key in a URL; send it in the Authorization: Bearer header')
    }
    if (mode === 'open') return
    const key = presentedKey(req)
    if (!key) throw new AppError('API_KEY_REQUIRED', 'this API needs a key: send Authorization: Bearer <key> (create one with `npm run keys -- create --name NAME`)')
    const principal = await verifier.verify(key)
    if (!principal) throw new AppError('API_KEY_INVALID', 'this API key is unknown or revoked')
    req.principal = principal
  })
}
