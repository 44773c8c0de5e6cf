import type { JobStatus } from '@hivesight/protocol'

// Pure: where the dashboard is, as the part of its URL after `#`. No Svelte here, so Node tests import it.

/** The job board's status filter. */
export type StatusFilter = 'all' | JobStatus
export const STATUS_FILTERS: readonly StatusFilter[] = ['all', 'queued', 'running', 'succeeded', 'failed', 'canceled', 'dead']

/** The screens the nav links to, in its order. */
export const SCREENS = [
  { id: 'overview', label: 'Overview' },
  { id: 'submit', label: 'Submit' },
  { id: 'jobs', label: 'Jobs' },
  { id: 'workers', label: 'Workers' },
  { id: 'models', label: 'Models' },
  { id: 'volunteer', label: 'Volunteer' },
] as const
export type ScreenId = (typeof SCREENS)[number]['id']

export type Route =
  | { screen: Exclude<ScreenId, 'jobs'> }
  /** The job board with its filter: `#/jobs?status=failed&q=cat`. */
  | { screen: 'jobs'; status: StatusFilter; q: string }
  /** One job: `#/jobs/<id>`. */
  | { screen: 'job'; id: string }
  /** Anything else; `path` is what was asked for. */
  | { screen: 'not-found'; path: string }

export const HOME: Route = { screen: 'overview' }
const SIMPLE = new Set<string>(SCREENS.map((s) => s.id).filter((id) => id !== 'jobs'))
const MAX_ID = 200
const MAX_QUERY = 200

function decode(part: string): string | null {
  try {
    return decodeURIComponent(part)
  } catch {
    return null
  }
}

/**
 * `location.hash` → the route. Forgiving about the shape (`#jobs`, `#/jobs/`, no hash at all), strict about
 * the names: an unknown screen is not found; an unknown status or an empty search means no filter.
 */
export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '')
  const qAt = raw.indexOf('?')
  const path = (qAt < 0 ? raw : raw.slice(0, qAt)).replace(/^\/+/, '').replace(/\/+$/, '')
  const params = new URLSearchParams(qAt < 0 ? '' : raw.slice(qAt + 1))
  const parts = path === '' ? [] : path.split('/').map(decode)
  const notFound: Route = { screen: 'not-found', path: `/${decode(path) ?? path}` }
  if (parts.some((p) => p === null || p === '')) return notFound
  const [first, second, ...rest] = parts as string[]
  if (first === undefined) return HOME
  if (rest.length > 0) return notFound
  if (first === 'jobs') {
    if (second !== undefined) return second.length <= MAX_ID ? { screen: 'job', id: second } : notFound
    const status = params.get('status') ?? 'all'
    return {
      screen: 'jobs',
      status: (STATUS_FILTERS as readonly string[]).includes(status) ? (status as StatusFilter) : 'all',
      q: (params.get('q') ?? '').trim().slice(0, MAX_QUERY),
    }
  }
  if (second === undefined && SIMPLE.has(first)) return { screen: first as Exclude<ScreenId, 'jobs'> }
  return notFound
}

/** The route → the hash to link to (`#/…`); what `parseRoute` reads back as the same route. */
export function routeHash(route: Route): string {
  switch (route.screen) {
    case 'jobs': {
      const params = new URLSearchParams()
      if (route.status !== 'all') params.set('status', route.status)
      if (route.q.trim()) params.set('q', route.q.trim())
      const query = params.toString()
      return `#/jobs${query ? `?${query}` : ''}`
    }
    case 'job':
      return `#/jobs/${encodeURIComponent(route.id)}`
    case 'not-found':
      return `#${route.path}`
    default:
      return `#/${route.screen}`
  }
}

/** The nav entry a route belongs to (a job's detail belongs to Jobs); none for a page not found. */
export function screenOf(route: Route): ScreenId | null {
  if (route.screen === 'job') return 'jobs'
  if (route.screen === 'not-found') return null
  return route.screen
}
