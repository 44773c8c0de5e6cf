import { parseArgs } from 'node:util'
import { LABEL_NAME_PATTERN, MODEL_NAME_PATTERN } from '@hivesight/protocol'

export const DEFAULT_URL = 'http://127.0.0.1:8080'
/** How long `add --wait` follows the smoke test by default: it needs a worker, which may take a while to come. */
export const DEFAULT_WAIT_SECONDS = 600

export const MODELS_USAGE = `usage: npm run models -- add NAME DIR [--label LABEL] [--wait [--timeout SECONDS]]
       npm run models -- list
       npm run models -- label NAME LABEL VERSION [--canary VERSION --percent P]
       npm run models -- remove NAME VERSION
options: --url URL (else HIVESIGHT_URL, else ${DEFAULT_URL}), --key KEY (else HIVESIGHT_API_KEY), --help

add     uploads every file of DIR (model.json, its *.bin weight shards, and Teachable Machine's metadata.json
        or a hivesight.json manifest) as the next version of model NAME, and prints that version. The
        coordinator then smoke-tests it on a worker; --wait follows it until it is ready or failed (at most
        --timeout seconds, default ${DEFAULT_WAIT_SECONDS}). Exit 1 if it failed or the upload was refused.
        --label points LABEL at the version once it is ready.
list    every model, its labels and its versions.
label   points LABEL of model NAME at VERSION; --canary VERSION --percent P sends P % of that label's
        traffic to another version.
remove  deletes a version that no label points at and no job waits for.

The API key: prefer HIVESIGHT_API_KEY to --key, which other users of the machine can see in the process list.`

/** A command line that cannot be run; main prints it with the usage and exits 2. */
export class UsageError extends Error {}

export type ModelsCommand =
  | { kind: 'help' }
  | { kind: 'add'; name: string; dir: string; label: string | null; wait: boolean; timeoutSeconds: number }
  | { kind: 'list' }
  | { kind: 'label'; name: string; label: string; version: number; canary: { version: number; percent: number } | null }
  | { kind: 'remove'; name: string; version: number }

export interface ModelsInvocation {
  command: ModelsCommand
  /** Without a trailing slash; may carry a path prefix (a coordinator behind a proxy). */
  url: string
  key: string | null
}

const OPTIONS = {
  label: { type: 'string' }, wait: { type: 'boolean' }, timeout: { type: 'string' },
  canary: { type: 'string' }, percent: { type: 'string' },
  url: { type: 'string' }, key: { type: 'string' }, help: { type: 'boolean', short: 'h' },
} as const
type OptionName = keyof typeof OPTIONS
/** Options that belong to one command only: given to another, they would be silently ignored. */
const ONLY_FOR: Partial<Record<OptionName, ModelsCommand['kind']>> = { label: 'add', wait: 'add', timeout: 'add', canary: 'label', percent: 'label' }

const nameRule = new RegExp(MODEL_NAME_PATTERN)
const labelRule = new RegExp(LABEL_NAME_PATTERN)

function modelName(s: string | undefined): string {
  if (s === undefined) throw new UsageError('the model NAME is missing')
  if (!nameRule.test(s)) throw new UsageError(`"${s}" is not a model name: a letter or digit, then letters, digits, ".", "_" or "-" (64 at most)`)
  return s
}

function labelName(s: string | undefined, what = 'LABEL'): string {
  if (s === undefined) throw new UsageError(`the ${what} is missing`)
  if (!labelRule.test(s)) throw new UsageError(`"${s}" is not a label: a lower-case letter, then lower-case letters, digits, "_" or "-" (32 at most)`)
  return s
}

/** "3" or "v3", as `list` prints it. */
function versionNumber(s: string | undefined, what = 'VERSION'): number {
  if (s === undefined) throw new UsageError(`the ${what} is missing`)
  const m = /^v?([1-9][0-9]{0,14})$/.exec(s)
  if (!m) throw new UsageError(`${what} must be a version number such as 3 (or v3), not "${s}"`)
  return Number(m[1])
}

function percent(s: string): number {
  const p = Number(s)
  if (s.trim() === '' || !Number.isFinite(p) || p < 0 || p > 100) throw new UsageError(`--percent must be a number from 0 to 100, not "${s}"`)
  return p
}

function timeoutSeconds(s: string | undefined): number {
  if (s === undefined) return DEFAULT_WAIT_SECONDS
  const n = Number(s)
  if (!/^[0-9]+$/.test(s) || n < 1 || n > 86_400) throw new UsageError(`--timeout must be a whole number of seconds from 1 to 86400, not "${s}"`)
  return n
}

export function coordinatorUrl(s: string): string {
  let u: URL
  try {
    u = new URL(s)
  } catch {
    throw new UsageError(`--url / HIVESIGHT_URL "${s}" is not a URL (e.g. ${DEFAULT_URL})`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`--url must be http:// or https://, not ${u.protocol}`)
  if (u.search || u.hash) throw new UsageError('--url takes no query string or fragment (the key goes in --key, never in a URL)')
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`
}

function expectArgs(rest: string[], max: number, usage: string): void {
  if (rest.length > max) throw new UsageError(`too many arguments: ${rest.slice(max).join(' ')} (${usage})`)
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true })
  } catch (err) {
    // An unknown option or a missing value: node's message names it.
    throw new UsageError(err instanceof Error ? err.message : String(err))
  }
}

/** Pure: argv (without node and the script) and the environment to what to do, or a UsageError. */
export function parseModelsArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): ModelsInvocation {
  const { values: v, positionals } = parse(argv)
  const url = coordinatorUrl(v.url ?? env.HIVESIGHT_URL ?? DEFAULT_URL)
  const key = (v.key ?? env.HIVESIGHT_API_KEY ?? '').trim() || null
  if (v.help) return { command: { kind: 'help' }, url, key }

  const [kind, ...rest] = positionals
  if (kind === undefined) throw new UsageError('a command is needed: add, list, label or remove')
  if (kind !== 'add' && kind !== 'list' && kind !== 'label' && kind !== 'remove') throw new UsageError(`unknown command "${kind}"`)
  for (const [opt, only] of Object.entries(ONLY_FOR)) {
    if (v[opt as OptionName] !== undefined && only !== kind) throw new UsageError(`--${opt} is for ${only} only`)
  }

  let command: ModelsCommand
  if (kind === 'add') {
    expectArgs(rest, 2, 'add NAME DIR')
    const name = modelName(rest[0])
    if (rest[1] === undefined) throw new UsageError('the DIR with model.json is missing')
    if (v.timeout !== undefined && !v.wait) throw new UsageError('--timeout goes with --wait')
    command = { kind, name, dir: rest[1], label: v.label === undefined ? null : labelName(v.label, '--label'), wait: v.wait ?? false, timeoutSeconds: timeoutSeconds(v.timeout) }
  } else if (kind === 'list') {
    expectArgs(rest, 0, 'list')
    command = { kind }
  } else if (kind === 'label') {
    expectArgs(rest, 3, 'label NAME LABEL VERSION')
    const name = modelName(rest[0])
    const label = labelName(rest[1])
    const version = versionNumber(rest[2])
    if ((v.canary === undefined) !== (v.percent === undefined)) throw new UsageError('--canary VERSION and --percent P go together')
    const canary = v.canary !== undefined && v.percent !== undefined ? { version: versionNumber(v.canary, '--canary VERSION'), percent: percent(v.percent) } : null
    if (canary?.version === version) throw new UsageError('the --canary version is the label\'s own version')
    command = { kind, name, label, version, canary }
  } else {
    expectArgs(rest, 2, 'remove NAME VERSION')
    command = { kind, name: modelName(rest[0]), version: versionNumber(rest[1]) }
  }
  return { command, url, key }
}
