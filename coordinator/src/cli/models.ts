import { MODELS_USAGE, parseModelsArgs, UsageError, type ModelsCommand } from './models-args.ts'
import { modelForm, ModelsClient, readModelDir, Unreachable, waitForVersion } from './models-client.ts'
import { formatAccepted, formatHttpProblem, formatModelList, formatOutcome, formatProgress, HttpProblem, labelText } from './models-format.ts'

// `npm run models -- …`: the model repository over the coordinator's REST API (unlike `keys`, no database).

const POLL_MS = 1000
/** Without a terminal (CI logs), a progress line this often rather than one a second. */
const QUIET_PROGRESS_MS = 15_000

async function run(command: Exclude<ModelsCommand, { kind: 'help' }>, client: ModelsClient): Promise<number> {
  switch (command.kind) {
    case 'list':
      console.log(formatModelList(await client.list()))
      return 0
    case 'label': {
      const m = await client.moveLabel(command.name, command.label, command.canary ? { version: command.version, canary: command.canary } : { version: command.version })
      const l = m.labels.find((x) => x.label === command.label)
      console.log(l ? `${command.name}: ${labelText(l)}` : `${command.name}: ${command.label} moved`)
      return 0
    }
    case 'remove':
      await client.removeVersion(command.name, command.version)
      console.log(`removed ${command.name} v${command.version}`)
      return 0
    case 'add':
      return add(command, client)
  }
}

async function add(command: Extract<ModelsCommand, { kind: 'add' }>, client: ModelsClient): Promise<number> {
  const files = await readModelDir(command.dir)
  const accepted = await client.upload(modelForm(command.name, files, command.label))
  console.log(formatAccepted(command.name, accepted, files.length))
  if (!command.wait || accepted.state !== 'validating') {
    if (accepted.state === 'validating') console.log(`a worker smoke-tests it now; follow it with  npm run models -- list  (or add --wait)`)
    return accepted.state === 'failed' ? 1 : 0
  }
  const tty = process.stdout.isTTY === true
  let lastPrinted = 0
  const outcome = await waitForVersion(() => client.model(command.name), accepted.version, {
    timeoutMs: command.timeoutSeconds * 1000,
    intervalMs: POLL_MS,
    onProgress: (elapsed, note) => {
      const line = formatProgress(command.name, accepted.version, elapsed / 1000, note)
      if (tty) process.stdout.write(`\r\x1b[2K${line}`)
      else if (note || elapsed - lastPrinted >= QUIET_PROGRESS_MS) {
        console.log(line)
        lastPrinted = elapsed
      }
    },
  })
  if (tty) process.stdout.write('\r\x1b[2K')
  if (!outcome) {
    console.error(`${command.name} v${accepted.version} is still validating after ${command.timeoutSeconds} s (it goes on on the coordinator; is a trusted worker connected?)`)
    return 1
  }
  const label = command.label ? outcome.model.labels.find((l) => l.label === command.label && l.version === accepted.version) ?? null : null
  const line = formatOutcome(command.name, outcome.version, label)
  if (outcome.version.state === 'ready') console.log(line)
  else console.error(line)
  return outcome.version.state === 'ready' ? 0 : 1
}

async function main(argv: readonly string[]): Promise<number> {
  let invocation
  try {
    invocation = parseModelsArgs(argv, process.env)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    // The synopsis only: the whole help would bury the one line that says what is wrong.
    console.error(`hivesight models: ${err.message}\n${MODELS_USAGE.split('\n').slice(0, 5).join('\n')}\n(--help says more)`)
    return 2
  }
  const { command, url, key } = invocation
  if (command.kind === 'help') {
    console.log(MODELS_USAGE)
    return 0
  }
  try {
    return await run(command, new ModelsClient(url, key))
  } catch (err) {
    const words = err instanceof HttpProblem ? formatHttpProblem(err) : err instanceof Unreachable || err instanceof Error ? err.message : String(err)
    console.error(`hivesight models: ${words}`)
    return 1
  }
}

process.exitCode = await main(process.argv.slice(2))
