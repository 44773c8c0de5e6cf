import type { OutFormat } from './classify-args.ts'
import type { ResultRow, RowStatus, TopPrediction } from './classify-output.ts'

// Reading back a results file, to resume: pure functions of its text.

const HEADER_LINE = 'path,job_id,status,model,version,top1_label,top1_score,top5,error'

export interface ReadResults {
  rows: ResultRow[]
  /** Characters of `text` that are whole records; what follows is a line cut short, to be cut off. */
  complete: number
  /** Set when the text is not a results file of this format (nothing may be written to it then). */
  error?: string
}

/** RFC 4180 records, each with the offset just past its line break. A record without one is left out. */
export function parseCsvRecords(text: string): { records: string[][]; complete: number } {
  const records: string[][] = []
  let complete = 0
  let fields: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c !== '"') field += c
      else if (text[i + 1] === '"') {
        field += '"'
        i++
      } else quoted = false
    } else if (c === '"') quoted = true
    else if (c === ',') {
      fields.push(field)
      field = ''
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++
      fields.push(field)
      records.push(fields)
      fields = []
      field = ''
      complete = i + 1
    } else field += c
  }
  return { records, complete }
}

const isStatus = (s: unknown): s is RowStatus => s === 'succeeded' || s === 'failed'
const orNull = (s: string) => (s === '' ? null : s)
const numberOrNull = (s: string) => (s === '' || Number.isNaN(Number(s)) ? null : Number(s))

function top5Of(value: unknown): TopPrediction[] | null {
  if (!Array.isArray(value)) return null
  return value.filter((p): p is TopPrediction => typeof p === 'object' && p !== null && typeof (p as TopPrediction).label === 'string' && typeof (p as TopPrediction).score === 'number')
}

function top5FromJson(s: string): TopPrediction[] | null {
  if (s === '') return null
  try {
    return top5Of(JSON.parse(s))
  } catch {
    return null
  }
}

function readCsv(text: string): ReadResults {
  const { records, complete } = parseCsvRecords(text)
  if (records.length === 0) {
    // Nothing whole yet: an empty file, or a header cut short. Anything else is someone else's file.
    return HEADER_LINE.startsWith(text) ? { rows: [], complete: 0 } : { rows: [], complete: 0, error: 'it is not a classify results file (no path,job_id,status,... header)' }
  }
  if (records[0]!.join(',') !== HEADER_LINE) return { rows: [], complete: 0, error: `its first line is not the header ${HEADER_LINE}` }
  const rows: ResultRow[] = []
  for (const [i, f] of records.slice(1).entries()) {
    if (f.length === 1 && f[0] === '') continue
    const [path = '', jobId = '', status, model = '', version = '', top1Label = '', top1Score = '', top5 = '', error = ''] = f
    if (f.length !== 9 || path === '' || !isStatus(status)) return { rows, complete, error: `record ${i + 2} is not a result row (9 fields, a path, status succeeded or failed)` }
    rows.push({
      path, jobId: orNull(jobId), status, model: orNull(model), version: numberOrNull(version),
      top1Label: orNull(top1Label), top1Score: numberOrNull(top1Score), top5: top5FromJson(top5), error: orNull(error),
    })
  }
  return { rows, complete }
}

function readJsonl(text: string): ReadResults {
  const rows: ResultRow[] = []
  const complete = text.lastIndexOf('\n') + 1
  const lines = text.slice(0, complete).split('\n')
  if (complete === 0 && text !== '' && !'{"path":'.startsWith(text) && !text.startsWith('{"path":')) {
    return { rows, complete: 0, error: 'it is not a classify results file (no {"path":...} line)' }
  }
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue
    let o: unknown
    try {
      o = JSON.parse(line)
    } catch {
      return { rows, complete, error: `line ${i + 1} is not JSON` }
    }
    if (typeof o !== 'object' || o === null) return { rows, complete, error: `line ${i + 1} is not a result` }
    const r = o as Record<string, unknown>
    if (typeof r.path !== 'string' || !isStatus(r.status)) return { rows, complete, error: `line ${i + 1} is not a result (a path, status succeeded or failed)` }
    const str = (v: unknown) => (typeof v === 'string' ? v : null)
    const num = (v: unknown) => (typeof v === 'number' ? v : null)
    rows.push({
      path: r.path, jobId: str(r.job_id), status: r.status, model: str(r.model), version: num(r.version),
      top1Label: str(r.top1_label), top1Score: num(r.top1_score), top5: top5Of(r.top5), error: str(r.error),
    })
  }
  return { rows, complete }
}

export function readResults(text: string, format: OutFormat): ReadResults {
  return format === 'csv' ? readCsv(text) : readJsonl(text)
}

/** Whether a row's model is the one --model asks for now (name, and the version when a number is given). */
export function sameModel(row: ResultRow, selector: string | null): boolean {
  if (selector === null) return true
  const [name, suffix] = selector.split('@')
  if (row.model !== name) return false
  return suffix === undefined || !/^[0-9]+$/.test(suffix) || row.version === Number(suffix)
}

/**
 * The paths to skip: those whose last row says succeeded (for the model asked for). A later failed row
 * (a re-run after the image changed, say) means it is tried again.
 */
export function alreadySucceeded(rows: readonly ResultRow[], selector: string | null): Set<string> {
  const last = new Map<string, ResultRow>()
  for (const r of rows) if (sameModel(r, selector)) last.set(r.path, r)
  return new Set([...last].filter(([, r]) => r.status === 'succeeded').map(([p]) => p))
}
