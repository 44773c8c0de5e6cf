import { CLASSIFY_USAGE, parseClassifyArgs, UsageError, type ClassifyOptions } from './classify-args.ts'
import { ClassifyClient } from './classify-client.ts'
import { findImages } from './classify-files.ts'
import { NotAResultsFile, ResultWriter, type ResultRow } from './classify-output.ts'
import { formatSummary, MAX_FAILURES_SHOWN, progressView, type Counts, type ProgressView } from './classify-progress.ts'
import { alreadySucceeded } from './classify-resume.ts'
import { DEFAULT_RETRY, withRetries } from './classify-retry.ts'
import { classifyAll, type RunControl } from './classify-run.ts'
import { formatHttpProblem, HttpProblem } from './models-format.ts'

// `npm run classify -- PATH...`: every image under PATH through the coordinator's REST API, resumable.

const EXIT_INTERRUPTED = 130
/** Retry notes are a hint that something is wrong, not a log: one at most this often. */
const RETRY_NOTE_MS = 5_000
const DOUBLE_SIGNAL_MS = 500

const words = (err: unknown) => (err instanceof HttpProblem ? formatHttpProblem(err) : err instanceof Error ? err.message : String(err))

async function run(opts: ClassifyOptions, startedAt: number): Promise<number> {
  const warn = (m: string) => console.error(`hivesight classify: ${m}`)
  const files = await findImages(opts.paths, warn)
  const { writer, previous } = ResultWriter.open(opts.out.path, opts.out.format)
  try {
    const done = alreadySucceeded(previous, opts.model)
    const todo = files.filter((f) => !done.has(f))
    const skipped = files.length - todo.length
    const summary = { succeeded: 0, failed: 0, skipped, notDone: 0, out: opts.out.path, interrupted: false, stoppedBy: null as string | null, failures: [] as { path: string; error: string }[] }
    if (todo.length === 0) {
      console.log(`nothing to do: all ${files.length} images already succeeded in ${opts.out.path}`)
      return 0
    }
    const client = new ClassifyClient(opts.url, opts.key)
    // Before the first image: a coordinator that is not there, or a refused key, is one message, not one per image.
    await withRetries(() => client.check(), { policy: { ...DEFAULT_RETRY, attempts: 3 } })

    const abandon = new AbortController()
    const control: RunControl = { stopping: false, abandon: abandon.signal }
    const counts: Counts = { done: 0, failed: 0, total: todo.length }
    console.error(`classify: ${todo.length} images to do${skipped ? ` (${skipped} already succeeded in ${opts.out.path})` : ''}, ${opts.concurrency} at a time, model ${opts.model ?? 'default'}, on ${opts.url}`)
    const progress: ProgressView = progressView(process.stderr, todo.length)
    let lastRetryNote = 0
    let interrupts = 0
    let firstInterrupt = 0
    const onSignal = (signal: NodeJS.Signals) => {
      // One Ctrl-C under `npm run` arrives twice: from the terminal, and forwarded by npm. A second one counts
      // only when it comes a moment later.
      if (interrupts === 1 && signal === 'SIGINT' && Date.now() - firstInterrupt < DOUBLE_SIGNAL_MS) return
      summary.interrupted = true
      interrupts++
      firstInterrupt ||= Date.now()
      if (interrupts === 1 && signal === 'SIGINT') {
        control.stopping = true
        progress.note('stopping: no new uploads; the images in flight finish and are written (Ctrl-C again to abandon them)')
      } else {
        control.stopping = true
        abandon.abort()
      }
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    const onResult = (row: ResultRow) => {
      // Written first: whatever happens next, this result is on disk.
      writer.write(row)
      counts.done++
      if (row.status === 'failed') {
        counts.failed++
        if (summary.failures.length < MAX_FAILURES_SHOWN) summary.failures.push({ path: row.path, error: row.error ?? 'failed' })
      }
      progress.update({ ...counts })
    }
    const onRetry = (err: Error, attempt: number, delayMs: number) => {
      if (Date.now() - lastRetryNote < RETRY_NOTE_MS) return
      lastRetryNote = Date.now()
      progress.note(`retrying in ${(delayMs / 1000).toFixed(1)} s (try ${attempt} failed): ${err.message}`)
    }
    try {
      const outcome = await classifyAll(todo, { api: client, model: opts.model, concurrency: opts.concurrency, control, onResult, retry: { onRetry } }, () => abandon.abort())
      Object.assign(summary, { succeeded: outcome.succeeded, failed: outcome.failed, notDone: outcome.unfinished + outcome.notStarted, stoppedBy: outcome.stoppedBy })
    } finally {
      progress.stop()
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
    console.log(formatSummary({ ...summary, elapsedMs: Date.now() - startedAt }))
    if (summary.interrupted) return EXIT_INTERRUPTED
    return summary.failed > 0 || summary.stoppedBy ? 1 : 0
  } finally {
    writer.close()
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const startedAt = Date.now()
  let opts
  try {
    const invocation = parseClassifyArgs(argv, process.env, process.cwd())
    if (invocation.kind === 'help') {
      console.log(CLASSIFY_USAGE)
      return 0
    }
    opts = invocation
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    // The synopsis only: the whole help would bury the one line that says what is wrong.
    console.error(`hivesight classify: ${err.message}\n${CLASSIFY_USAGE.split('\n').slice(0, 3).join('\n')}\n(--help says more)`)
    return 2
  }
  try {
    return await run(opts, startedAt)
  } catch (err) {
    console.error(`hivesight classify: ${words(err)}`)
    return err instanceof UsageError || err instanceof NotAResultsFile ? 2 : 1
  }
}

process.exitCode = await main(process.argv.slice(2))
