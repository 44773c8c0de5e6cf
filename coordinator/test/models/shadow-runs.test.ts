import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ModelDescriptor } from '@hivesight/protocol'
import type { ResolvedVersion } from '../../src/models/model-lookup.ts'
import type { Catalog } from '../../src/models/model-selection.ts'
import { sameClass, shadowFor } from '../../src/models/shadow-runs.ts'

const pre = { inputSize: 224, channels: 3 as const, resize: 'centre-crop-then-resize' as const, mean: [127, 127, 127], std: [127, 127, 127] }
const v = (id: string, version: number, classes: string[], over: Partial<ResolvedVersion> = {}, preprocessing = pre): ResolvedVersion => ({
  id, name: 'm', version, state: 'ready', failureReason: null, classes: classes.map((c) => ({ id: c, name: c })),
  descriptor: { id, name: 'm', version, format: 'layers', files: [], preprocessing, outputs: classes.length, labelOffset: 0, softmax: false } as ModelDescriptor,
  ...over,
})
const catalog = (versions: ResolvedVersion[], canary: { main: string; canary: string; percent: number } | null): Catalog => ({
  versions: new Map(versions.map((x) => [x.id, x])),
  labels: [{ model: 'm', label: 'default', versionId: canary?.main ?? versions[0]!.id, canaryVersionId: canary?.canary ?? null, canaryPercent: canary?.percent ?? 0 }],
})

test('a split label\'s jobs run on the other version for a share of draws, both ways', { timeout: 5_000 }, () => {
  const c = catalog([v('a', 1, ['x', 'y']), v('b', 2, ['x', 'y'])], { main: 'a', canary: 'b', percent: 10 })
  assert.equal(shadowFor(c, 'a', 0.05, 0.1), 'b')
  assert.equal(shadowFor(c, 'b', 0.05, 0.1), 'a')
  assert.equal(shadowFor(c, 'a', 0.5, 0.1), undefined, 'outside the share')
})

test('no shadow run without a split, to a version that is not ready, or between versions that prepare input differently', { timeout: 5_000 }, () => {
  assert.equal(shadowFor(catalog([v('a', 1, ['x']), v('b', 2, ['x'])], null), 'a', 0, 1), undefined)
  assert.equal(shadowFor(catalog([v('a', 1, ['x']), v('b', 2, ['x'], { state: 'failed' })], { main: 'a', canary: 'b', percent: 50 }), 'a', 0, 1), undefined)
  assert.equal(shadowFor(catalog([v('a', 1, ['x']), v('b', 2, ['x'], {}, { ...pre, inputSize: 160 })], { main: 'a', canary: 'b', percent: 50 }), 'a', 0, 1), undefined)
  assert.equal(shadowFor(catalog([v('a', 1, ['x']), v('b', 2, ['x'])], { main: 'a', canary: 'b', percent: 0 }), 'a', 0, 1), undefined, 'a 0 % canary splits nothing')
})

test('agreement is by class id: the same index of a renamed class is another answer', { timeout: 5_000 }, () => {
  const c = catalog([v('a', 1, ['cat', 'dog']), v('b', 2, ['cat', 'dog']), v('r', 3, ['Katze', 'Hund'])], null)
  assert.equal(sameClass(c, { version: 'a', index: 1 }, { version: 'b', index: 1 }), true)
  assert.equal(sameClass(c, { version: 'a', index: 0 }, { version: 'b', index: 1 }), false)
  assert.equal(sameClass(c, { version: 'a', index: 0 }, { version: 'r', index: 0 }), false)
  assert.equal(sameClass(c, { version: 'a', index: 0 }, { version: 'gone', index: 0 }), undefined)
})
