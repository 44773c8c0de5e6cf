import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { RESULTS_DIR } from './charts.ts'

/** What each evaluation command saves as its latest results, read back by `npm run eval:report`. */
export interface SavedResults<T> {
  command: string
  /** ISO time of the run. */
  at: string
  /** The run's arguments, as given. */
  args: string[]
  data: T
}

export const resultsPath = (name: string): string => resolve(RESULTS_DIR, `${name}.json`)

/**
 * Writes evaluation/results/<name>.json (the latest run replaces the one before); returns the path, or
 * why it could not be written: a run's results are printed anyway, so saving them must not end it.
 */
export function saveResults<T>(name: string, command: string, data: T): string {
  const saved: SavedResults<T> = { command, at: new Date().toISOString(), args: process.argv.slice(2), data }
  try {
    mkdirSync(RESULTS_DIR, { recursive: true })
    writeFileSync(resultsPath(name), `${JSON.stringify(saved, null, 1)}\n`)
    return resultsPath(name)
  } catch (err) {
    return `not saved (${err instanceof Error ? err.message : String(err)})`
  }
}

export function loadResults<T>(name: string): SavedResults<T> | null {
  const path = resultsPath(name)
  if (!existsSync(path)) return null
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as SavedResults<T>
  } catch {
    return null
  }
}
