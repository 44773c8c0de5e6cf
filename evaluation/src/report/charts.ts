import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { REPO_ROOT } from '@hivesight/coordinator'
import { parse, View } from 'vega'
import { compile, type TopLevelSpec } from 'vega-lite'

/**
 * Where evaluation runs put their figures and results (git-ignored); README figures are copied to
 * docs/figures. HIVESIGHT_RESULTS_DIR moves it, so that tests do not replace the latest real runs.
 */
export const RESULTS_DIR = process.env.HIVESIGHT_RESULTS_DIR ?? resolve(REPO_ROOT, 'evaluation/results')

/** Renders a Vega-Lite spec to SVG in Node (no browser, no canvas) and writes it; returns the path. */
export async function writeChart(name: string, spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile({ ...spec, config: { font: 'system-ui, sans-serif', ...spec.config } } as TopLevelSpec).spec), { renderer: 'none' })
  const svg = await view.toSVG()
  view.finalize()
  const path = resolve(RESULTS_DIR, `${name}.svg`)
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, svg)
  return path
}
