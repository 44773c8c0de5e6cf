import assert from 'node:assert/strict'
import { existsSync, readdirSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { v7 as uuidv7 } from 'uuid'
import { createDb } from '../../src/db/create-db.ts'
import { tinyPng } from '../support/images.ts'
import { buildTestApp, multipart } from '../support/test-app.ts'

const upload = () => multipart([{ name: 'a.png', type: 'image/png', data: tinyPng() }])

test('a submit whose commit fails keeps its image (the jobs may exist after all) and answers 503', async (t) => {
  const unreachable = createDb({ databaseUrl: 'mysql://root@127.0.0.1:1/test' })
  t.after(() => unreachable.kysely.destroy())
  const { app, dataDir } = await buildTestApp(t, { sharedDb: unreachable })
  const res = await app.inject({ method: 'POST', url: '/api/v1/jobs', ...upload() })
  assert.equal(res.statusCode, 503)
  assert.equal(readdirSync(join(dataDir, 'blobs')).length, 1)
})

test('images no job refers to are removed once old; jobs\' images, young files and unfinished puts are handled apart', async (t) => {
  const { app, jobs, dataDir } = await buildTestApp(t)
  const blobs = join(dataDir, 'blobs')
  const id = (await app.inject({ method: 'POST', url: '/api/v1/jobs', ...upload() })).json().jobs[0].id as string
  const [orphan, young, unfinished] = [uuidv7(), uuidv7(), `${uuidv7()}.tmp`]
  for (const name of [orphan, young, unfinished]) writeFileSync(join(blobs, name), 'x')
  const hourAgo = new Date(Date.now() - 3600_000)
  for (const name of [id, orphan, unfinished]) utimesSync(join(blobs, name), hourAgo, hourAgo)
  assert.equal(await jobs.collectOrphanImages(), 1)
  assert.ok(existsSync(join(blobs, id)), 'the queued job keeps its image')
  assert.ok(existsSync(join(blobs, young)), 'a young file may belong to a submit still committing')
  assert.ok(!existsSync(join(blobs, orphan)), 'the old orphan is gone')
  assert.ok(!existsSync(join(blobs, unfinished)), 'an old temporary file is gone')
})
