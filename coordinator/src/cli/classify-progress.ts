import { Presets, SingleBar } from 'cli-progress'

// What `npm run classify` shows while it runs (on stderr) and when it ends: pure formatting, and the bar.

/** Without a terminal (CI logs, a pipe), a plain line this often instead of a bar. */
export const PLAIN_PROGRESS_MS = 10_000

export interface Counts { done: number; failed: number; total: number }

export const rate = (done: number, elapsedMs: number) => (elapsedMs > 0 ? (done * 1000) / elapsedMs : 0)

/** 42 s, 3 min 05 s, 2 h 07 min; "–" while there is nothing to go on. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–'
  const s = Math.round(seconds)
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`
}

export function eta(c: Counts, elapsedMs: number): string {
  const r = rate(c.done, elapsedMs)
  return c.done === 0 || r === 0 ? '–' : duration((c.total - c.done) / r)
}

/** The line printed every PLAIN_PROGRESS_MS without a terminal. */
export function progressLine(c: Counts, elapsedMs: number): string {
  return `classify: ${c.done}/${c.total} done, ${c.failed} failed, ${rate(c.done, elapsedMs).toFixed(1)} images/s, ETA ${eta(c, elapsedMs)}`
}

export interface Summary {
  succeeded: number
  failed: number
  /** Already succeeded in the results file before this run. */
  skipped: number
  /** Left for a re-run (interrupted or stopped). */
  notDone: number
  elapsedMs: number
  out: string
  interrupted: boolean
  stoppedBy: string | null
  /** The first few failures, as path and reason. */
  failures: { path: string; error: string }[]
}

export const MAX_FAILURES_SHOWN = 10

export function formatSummary(s: Summary): string {
  const done = s.succeeded + s.failed
  const lines = [
    `${s.succeeded} succeeded, ${s.failed} failed, ${s.skipped} skipped (already done)${s.notDone ? `, ${s.notDone} not done` : ''}; ` +
      `${rate(done, s.elapsedMs).toFixed(1)} images/s, ${(s.elapsedMs / 1000).toFixed(1)} s`,
    `results: ${s.out}`,
  ]
  for (const f of s.failures.slice(0, MAX_FAILURES_SHOWN)) lines.push(`  failed: ${f.path}: ${f.error}`)
  if (s.failed > MAX_FAILURES_SHOWN) lines.push(`  … and ${s.failed - MAX_FAILURES_SHOWN} more (status "failed" in the results)`)
  if (s.stoppedBy) lines.push(`stopped: ${s.stoppedBy}`)
  if (s.interrupted || s.stoppedBy || s.failed) {
    const what = s.failed ? `retry the failed images${s.notDone ? ' and do the rest' : ''}` : 'go on'
    lines.push(`run the same command again${s.stoppedBy && !s.interrupted ? ' once that is fixed' : ''} to ${what}`)
  }
  return lines.join('\n')
}

export interface ProgressView {
  update(c: Counts): void
  /** A line of its own above (or instead of) the bar. */
  note(message: string): void
  stop(): void
}

/** A bar redrawn in place on a terminal; otherwise a plain line every PLAIN_PROGRESS_MS (and at the end). */
export function progressView(stream: NodeJS.WriteStream, total: number, now: () => number = Date.now): ProgressView {
  const start = now()
  let last: Counts = { done: 0, failed: 0, total }
  // `eta` is a token of cli-progress's own (from its bar's updates); ours goes by images/s over the whole run.
  const payload = (c: Counts) => ({ rate: rate(c.done, now() - start).toFixed(1), failed: c.failed, eta_text: eta(c, now() - start) })
  if (stream.isTTY) {
    const bar = new SingleBar({
      stream, format: 'classify {bar} {value}/{total} | {rate} img/s | ETA {eta_text} | {failed} failed',
      hideCursor: true, gracefulExit: false, fps: 5, barsize: 20, linewrap: true, forceRedraw: true,
    }, Presets.shades_classic)
    bar.start(total, 0, payload(last))
    // The rate and the ETA move with the clock too, not only when an image finishes.
    const timer = setInterval(() => bar.update(last.done, payload(last)), 1000).unref()
    return {
      update: (c) => {
        last = c
        bar.update(c.done, payload(c))
      },
      note: (m) => stream.write(`\r\x1b[2K${m}\n`),
      stop: () => {
        clearInterval(timer)
        bar.update(last.done, payload(last))
        bar.stop()
      },
    }
  }
  const timer = setInterval(() => stream.write(`${progressLine(last, now() - start)}\n`), PLAIN_PROGRESS_MS).unref()
  return {
    update: (c) => {
      last = c
    },
    note: (m) => stream.write(`${m}\n`),
    stop: () => {
      clearInterval(timer)
      stream.write(`${progressLine(last, now() - start)}\n`)
    },
  }
}
