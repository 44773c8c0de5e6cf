import { HOME, parseRoute, routeHash, type Route, type StatusFilter } from '../routes.ts'
import { jobs } from './jobs.svelte.ts'

const DEPTH = 'hivesightDepth'

/** How many entries of this tab's history before the current one are the dashboard's own (kept in history.state). */
function depthOf(state: unknown): number | undefined {
  if (typeof state !== 'object' || state === null || !(DEPTH in state)) return undefined
  const d = (state as Record<string, unknown>)[DEPTH]
  return typeof d === 'number' && Number.isSafeInteger(d) && d >= 0 ? d : undefined
}

/**
 * Where the dashboard is: the URL's hash (`#/jobs?status=failed`), so back, forward, reload and a link
 * someone sent all land on the same screen. Links change the hash; this follows it.
 */
class Router {
  route = $state<Route>(HOME)
  private depth = 0

  /** Follows the hash from now on; returns the undo. */
  start(): () => void {
    const follow = () => this.follow(false)
    window.addEventListener('hashchange', follow)
    this.follow(true)
    return () => window.removeEventListener('hashchange', follow)
  }

  /** The job board's link, with the filter it has now (so leaving and coming back keeps it). */
  get jobsHash(): string {
    return routeHash({ screen: 'jobs', status: jobs.filter, q: jobs.query })
  }

  /**
   * A new filter for the job board. A status is a step of its own (back undoes it); typing a search
   * rewrites the current step, so each letter is not one.
   */
  filterJobs(change: { status?: StatusFilter; q?: string }): void {
    if (change.status !== undefined) jobs.filter = change.status
    if (change.q !== undefined) jobs.query = change.q
    const hash = this.jobsHash
    if (change.q !== undefined) {
      history.replaceState(history.state, '', hash)
      this.route = parseRoute(hash)
    } else if (hash !== location.hash) {
      location.hash = hash
    }
  }

  /** Back where the user came from when that was a screen of this tab, else to `fallback` (a hash). */
  back(fallback: string): void {
    if (this.depth > 0) history.back()
    else location.hash = fallback
  }

  /** Reads the hash: at the start (`first`, a reload keeps its depth) and at every change of it. */
  private follow(first: boolean): void {
    const known = depthOf(history.state)
    if (known !== undefined) this.depth = known // back, forward or a reload
    else {
      // A new entry (a link, a typed URL): one step deeper than the one it came from.
      this.depth = first ? 0 : this.depth + 1
      const state: unknown = history.state
      history.replaceState({ ...(typeof state === 'object' && state !== null ? state : {}), [DEPTH]: this.depth }, '')
    }
    const route = parseRoute(location.hash)
    // One spelling per place: `#/overview` for no hash, `#/jobs` for `#/jobs?status=all`.
    const canonical = routeHash(route)
    if (route.screen !== 'not-found' && canonical !== location.hash) history.replaceState(history.state, '', canonical)
    if (route.screen === 'jobs') {
      jobs.filter = route.status
      jobs.query = route.q
    }
    this.route = route
  }
}

export const router = new Router()
