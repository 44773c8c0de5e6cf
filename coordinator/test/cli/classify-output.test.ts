import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { JobView } from '@hivesight/protocol'
import { CSV_HEADER, csvField, csvLine, failedRow, jsonlLine, NotAResultsFile, ResultWriter, rowFromJob, type ResultRow } from '../../src/cli/classify-output.ts'
import { alreadySucceeded, parseCsvRecords, readResults, sameModel } from '../../src/cli/classify-resume.ts'

// The results file of `npm run classify`: CSV and JSONL lines, reading them back to resume, the writer.
const T = { timeout: 10_000 }
let dir: string

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hivesight-results-'))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

function job(over: Partial<JobView> = {}): JobView {
  return {
    id: '0190a1b2-0000-7000-8000-000000000001', status: 'succeeded', filename: 'cat.jpg', contentType: 'image/jpeg', bytes: 100, width: 10, height: 10,
    priority: 0, attempts: 1, submittedAt: 1, startedAt: 2, finishedAt: 3, workerId: 'w1', model: { name: 'mobilenet', version: 2 },
    result: {
      predictions: ['tabby, tabby cat', 'tiger cat', 'Egyptian cat', 'lynx', 'fox', 'sixth'].map((label, i) => ({ label, wnid: `n0${i}`, score: 0.5 / (i + 1) })),
      model: { name: 'mobilenet', version: 2 }, decodeMs: 1, inferMs: 2,
    },
    error: null, ...over,
  }
}

const ok = rowFromJob('/p/cat, "the" one.jpg', job())
const bad = failedRow('/p/broken.jpg', 'upload refused: 415 UNSUPPORTED_IMAGE_TYPE: broken.jpg: not an image,\nsays "the coordinator"')

test('a finished job as a row: top 5 of its predictions, or its error', T, () => {
  assert.equal(ok.status, 'succeeded')
  assert.equal(ok.top1Label, 'tabby, tabby cat')
  assert.equal(ok.top1Score, 0.5)
  assert.equal(ok.top5?.length, 5)
  assert.deepEqual([ok.model, ok.version, ok.jobId], ['mobilenet', 2, job().id])
  const decode = rowFromJob('/p/x.jpg', job({ status: 'failed', result: null, error: { code: 'IMAGE_DECODE_FAILED', message: 'cannot decode' } }))
  assert.deepEqual([decode.status, decode.error, decode.top5], ['failed', 'IMAGE_DECODE_FAILED: cannot decode', null])
  assert.match(rowFromJob('/p/x.jpg', job({ status: 'dead', attempts: 5, result: null, error: { code: 'WORKER_LOST', message: 'gone' } })).error!, /^dead after 5 attempts: WORKER_LOST: gone$/)
  assert.equal(rowFromJob('/p/x.jpg', job({ status: 'canceled', result: null })).error, 'job canceled')
})

test('CSV escaping: commas, quotes, line breaks and edge spaces are quoted, quotes doubled; the rest left bare', T, () => {
  assert.equal(csvField('plain'), 'plain')
  assert.equal(csvField(null), '')
  assert.equal(csvField(0.25), '0.25')
  assert.equal(csvField('a,b'), '"a,b"')
  assert.equal(csvField('say "hi"'), '"say ""hi"""')
  assert.equal(csvField('two\nlines'), '"two\nlines"')
  assert.equal(csvField('cr\r'), '"cr\r"')
  assert.equal(csvField(' padded'), '" padded"')
  assert.equal(csvField('ünïcødé/日本.jpg'), 'ünïcødé/日本.jpg')
  assert.deepEqual(parseCsvRecords(`${csvLine(ok)}${csvLine(bad)}`).records.map((r) => r.length), [9, 9])
})

test('CSV and JSONL round trip: what is written is read back the same', T, () => {
  const csv = `${CSV_HEADER.join(',')}\n${csvLine(ok)}${csvLine(bad)}`
  const jsonl = `${jsonlLine(ok)}${jsonlLine(bad)}`
  for (const [text, format] of [[csv, 'csv'], [jsonl, 'jsonl']] as const) {
    const read = readResults(text, format)
    assert.equal(read.error, undefined, format)
    assert.deepEqual(read.rows, [ok, bad], format)
    assert.equal(read.complete, text.length)
  }
  assert.deepEqual(JSON.parse(jsonlLine(ok)).top5[0], { label: 'tabby, tabby cat', wnid: 'n00', score: 0.5 })
})

test('a last line cut short (killed mid-write) is not a row, and is marked to be cut off', T, () => {
  const csv = `${CSV_HEADER.join(',')}\n${csvLine(ok)}`
  const cutCsv = csv + csvLine(bad).slice(0, 40)
  assert.deepEqual(readResults(cutCsv, 'csv'), { rows: [ok], complete: csv.length })
  const jsonl = jsonlLine(ok)
  assert.deepEqual(readResults(jsonl + jsonlLine(bad).slice(0, 30), 'jsonl'), { rows: [ok], complete: jsonl.length })
  assert.deepEqual(readResults('path,job_id,sta', 'csv'), { rows: [], complete: 0 }, 'a header cut short')
  assert.deepEqual(readResults('', 'jsonl'), { rows: [], complete: 0 })
})

test('someone else\'s file is refused, not appended to', T, () => {
  assert.match(readResults('name,age\nbob,3\n', 'csv').error!, /not the header/)
  assert.match(readResults('hello', 'csv').error!, /not a classify results file/)
  assert.match(readResults('hello', 'jsonl').error!, /not a classify results file/)
  assert.match(readResults(`${jsonlLine(ok)}not json\n`, 'jsonl').error!, /line 2 is not JSON/)
  assert.match(readResults('{"path":"/x","status":"maybe"}\n', 'jsonl').error!, /line 1 is not a result/)
  assert.match(readResults(`${CSV_HEADER.join(',')}\n/x,,weird,,,,,,\n`, 'csv').error!, /record 2 is not a result row/)
})

test('resume: the last row of a path decides; succeeded is skipped, failed is retried; other models do not count', T, () => {
  const row = (path: string, status: 'succeeded' | 'failed', model = 'mobilenet', version = 1): ResultRow => ({ ...ok, path, status, model, version })
  const rows = [row('/a', 'succeeded'), row('/b', 'failed'), row('/c', 'failed'), row('/c', 'succeeded'), row('/d', 'succeeded'), row('/d', 'failed'), row('/e', 'succeeded', 'flowers', 3)]
  assert.deepEqual([...alreadySucceeded(rows, null)].sort(), ['/a', '/c', '/e'])
  assert.deepEqual([...alreadySucceeded(rows, 'flowers')], ['/e'])
  assert.deepEqual([...alreadySucceeded(rows, 'flowers@3')], ['/e'])
  assert.deepEqual([...alreadySucceeded(rows, 'flowers@4')], [])
  assert.deepEqual([...alreadySucceeded(rows, 'flowers@default')], ['/e'], 'a label: the name must match, the version cannot be known')
  assert.ok(sameModel(row('/x', 'failed', 'm', 2), 'm@2'))
  assert.ok(!sameModel(failedRow('/x', 'refused'), 'm'), 'a refused upload has no model')
})

test('the writer: header once, rows appended, a cut line removed before appending, a foreign file left alone', T, async () => {
  const csvPath = join(dir, 'r.csv')
  let { writer, previous } = ResultWriter.open(csvPath, 'csv')
  assert.deepEqual(previous, [])
  writer.write(ok)
  writer.close()
  await writeFile(csvPath, `${await readFile(csvPath, 'utf8')}${csvLine(bad).slice(0, 25)}`)
  ;({ writer, previous } = ResultWriter.open(csvPath, 'csv'))
  assert.deepEqual(previous, [ok])
  writer.write(bad)
  writer.close()
  assert.equal(await readFile(csvPath, 'utf8'), `${CSV_HEADER.join(',')}\n${csvLine(ok)}${csvLine(bad)}`)

  const jsonlPath = join(dir, 'r.jsonl')
  ;({ writer } = ResultWriter.open(jsonlPath, 'jsonl'))
  writer.write(bad)
  writer.close()
  assert.equal(await readFile(jsonlPath, 'utf8'), jsonlLine(bad), 'no header in JSONL')

  const foreign = join(dir, 'notes.csv')
  await writeFile(foreign, 'my,own\ndata,here')
  assert.throws(() => ResultWriter.open(foreign, 'csv'), NotAResultsFile)
  assert.equal(await readFile(foreign, 'utf8'), 'my,own\ndata,here')
})
