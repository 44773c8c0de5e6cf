import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ModelVersionState } from '@hivesight/protocol'
import type { ResolvedVersion } from '../../src/models/model-lookup.ts'
import { selectVersion, type Catalog, type LabelPointer } from '../../src/models/model-selection.ts'

// selectVersion on hand-made catalogues: no database, no coordinator.

const T = { timeout: 5_000 }

function version(name: string, n: number, state: ModelVersionState = 'ready'): ResolvedVersion {
  const id = `${name}-v${n}`
  return {
    id, name, version: n, state, failureReason: state === 'failed' ? 'it would not load' : null,
    descriptor: {
      id, name, version: n, format: 'layers', files: [], outputs: 3, labelOffset: 0, softmax: false,
      preprocessing: { inputSize: 224, channels: 3, resize: 'centre-crop-then-resize', mean: [127, 127, 127], std: [127, 127, 127] },
    },
    classes: [{ id: 'red', name: 'red' }, { id: 'green', name: 'green' }, { id: 'blue', name: 'blue' }],
  }
}

const label = (model: string, name: string, versionId: string, canary?: { versionId: string; percent: number }): LabelPointer => ({
  model, label: name, versionId, canaryVersionId: canary?.versionId ?? null, canaryPercent: canary?.percent ?? 0,
})

function catalog(versions: ResolvedVersion[], labels: LabelPointer[], pending: Catalog['pending'] = []): Catalog {
  return { versions: new Map(versions.map((v) => [v.id, v])), labels, pending }
}

// mobilenet v1 (default); flowers v1 (stable), v2 (default, with a 10 % canary on v3), v3.
const CATALOG = catalog(
  [version('mobilenet', 1), version('flowers', 1), version('flowers', 2), version('flowers', 3)],
  [
    label('mobilenet', 'default', 'mobilenet-v1'),
    label('flowers', 'default', 'flowers-v2', { versionId: 'flowers-v3', percent: 10 }),
    label('flowers', 'stable', 'flowers-v1'),
  ],
)

function picked(selector: string | undefined, draw = 0.5, c: Catalog = CATALOG): string {
  const s = selectVersion(c, selector, 'mobilenet', draw)
  assert.ok(s.ok, s.ok ? '' : s.message)
  return s.version.id
}

function refused(selector: string | undefined, c: Catalog = CATALOG): string {
  const s = selectVersion(c, selector, 'mobilenet', 0.5)
  assert.ok(!s.ok, `expected a refusal, got ${s.ok ? s.version.id : ''}`)
  return s.message
}

test('NAME is the model at its default label; no selector is the default model at its', T, () => {
  assert.equal(picked('flowers'), 'flowers-v2')
  assert.equal(picked('flowers@default'), 'flowers-v2')
  assert.equal(picked(undefined), 'mobilenet-v1')
  assert.equal(picked(''), 'mobilenet-v1')
  assert.equal(picked('  '), 'mobilenet-v1')
  assert.equal(picked(' flowers '), 'flowers-v2')
})

test('NAME@3 is version 3, whatever the labels say; NAME@stable follows the label', T, () => {
  assert.equal(picked('flowers@3'), 'flowers-v3')
  assert.equal(picked('flowers@1'), 'flowers-v1')
  assert.equal(picked('flowers@stable'), 'flowers-v1')
  // A number names a version even when the canary draw would have gone elsewhere.
  assert.equal(picked('flowers@2', 0.01), 'flowers-v2')
})

test('a label with a canary sends percent % of draws to it', T, () => {
  assert.equal(picked('flowers', 0.05), 'flowers-v3')
  assert.equal(picked('flowers', 0), 'flowers-v3')
  assert.equal(picked('flowers', 0.0999), 'flowers-v3')
  assert.equal(picked('flowers', 0.1), 'flowers-v2')
  assert.equal(picked('flowers', 0.5), 'flowers-v2')
  assert.equal(picked('flowers', 0.9999), 'flowers-v2')
  // Labels without a canary, and canaries at 0 %, never split.
  assert.equal(picked('flowers@stable', 0), 'flowers-v1')
  const off = catalog([version('a', 1), version('a', 2)], [label('a', 'default', 'a-v1', { versionId: 'a-v2', percent: 0 })])
  assert.equal(picked('a', 0, off), 'a-v1')
  const all = catalog([version('a', 1), version('a', 2)], [label('a', 'default', 'a-v1', { versionId: 'a-v2', percent: 100 })])
  assert.equal(picked('a', 0.9999, all), 'a-v2')
})

test('over many draws the canary share is what was asked for', T, () => {
  let canary = 0
  for (let i = 0; i < 1000; i++) if (picked('flowers', i / 1000) === 'flowers-v3') canary++
  assert.equal(canary, 100)
})

test('an unknown model, version or label is refused with a message that names it', T, () => {
  assert.equal(refused('tulips'), 'no model named tulips')
  assert.equal(refused('tulips@2'), 'no model named tulips')
  assert.match(refused('flowers@7'), /model flowers has no version 7 \(it has 1, 2, 3\)/)
  assert.match(refused('flowers@beta'), /model flowers has no label "beta"$/)
  // Names are exact: the catalogue is case-sensitive, like the routes.
  assert.equal(refused('Flowers'), 'no model named Flowers')
})

test('a default model the catalogue does not have is refused as unknown', T, () => {
  const s = selectVersion(catalog([version('flowers', 1)], [label('flowers', 'default', 'flowers-v1')]), undefined, 'mobilenet', 0.5)
  assert.deepEqual(s, { ok: false, message: 'no model named mobilenet' })
})

test('what is not a selector is refused as such', T, () => {
  for (const bad of ['flowers@', '@2', 'flo wers', 'flowers@2@3', '../flowers', 'flowers@stable!', '-flowers', 'x'.repeat(65), `flowers@${'a'.repeat(33)}`]) {
    assert.match(refused(bad), /is not a model selector: use NAME, NAME@VERSION or NAME@LABEL/, bad)
  }
})

test('a model with no default label yet says which version to name', T, () => {
  const c = catalog([version('tulips', 1, 'failed'), version('tulips', 2, 'failed')], [])
  assert.match(refused('tulips', c), /model tulips has no label "default" \(no version of it is ready and labelled so\); name a version: tulips@2$/)
  assert.equal(picked('tulips@1', 0.5, c), 'tulips-v1')
})

test('a label a validating version will take is that version until it settles (so callers say "not ready yet")', T, () => {
  const v1 = version('tulips', 1, 'validating')
  const c = catalog([v1], [], [{ model: 'tulips', label: 'default', versionId: v1.id }])
  assert.equal(picked('tulips', 0.5, c), 'tulips-v1')
  assert.equal(picked('tulips@default', 0.5, c), 'tulips-v1')
  assert.match(refused('tulips@stable', c), /no label "stable"/)
  // The newest of two waiting for one label: it is the one that keeps it once both are ready.
  const two = catalog([version('tulips', 1, 'validating'), version('tulips', 2, 'validating')], [], [
    { model: 'tulips', label: 'stable', versionId: 'tulips-v2' }, { model: 'tulips', label: 'stable', versionId: 'tulips-v1' },
  ])
  assert.equal(picked('tulips@stable', 0.5, two), 'tulips-v2')
  // A label that exists already is followed, not the version waiting to take it.
  const moving = catalog([version('tulips', 1), version('tulips', 2, 'validating')], [label('tulips', 'default', 'tulips-v1')], [
    { model: 'tulips', label: 'default', versionId: 'tulips-v2' },
  ])
  assert.equal(picked('tulips', 0.5, moving), 'tulips-v1')
})

test('a label pointing at a version that is gone is refused, a gone canary falls back to the label', T, () => {
  const c = catalog([version('a', 1)], [label('a', 'default', 'a-v9'), label('a', 'stable', 'a-v1', { versionId: 'a-v8', percent: 50 })])
  assert.match(refused('a', c), /label a@default points at a version that is gone/)
  assert.equal(picked('a@stable', 0.1, c), 'a-v1')
})
