import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FromCoordinator, JobResult, ModelChecked, ModelDescriptor, WorkerHello } from '@hivesight/protocol'
import { checkedResult } from '../../src/jobs/answer-recorder.ts'
import type { ResolvedVersion } from '../../src/models/model-lookup.ts'
import type { ModelRepository, SmokeVerdict } from '../../src/models/model-repository.ts'
import { pickChecker, smokeVerdict, SmokeTests } from '../../src/models/smoke-tests.ts'
import { WorkerRegistry, type HeldJob, type LiveWorker } from '../../src/workers/worker-registry.ts'

// The smoke test's pure pieces, the SmokeTests loop on a real registry with a fake repository, and the
// check every worker result passes before it is believed (answer-recorder's checkedResult).

const T = { timeout: 5_000 }
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined }

const ID = 'a'.repeat(64)
const OTHER = 'b'.repeat(64)

const descriptor: ModelDescriptor = {
  id: ID, name: 'flowers', version: 2, format: 'layers', files: [], outputs: 4, labelOffset: 1, softmax: false,
  preprocessing: { inputSize: 224, channels: 3, resize: 'centre-crop-then-resize', mean: [127, 127, 127], std: [127, 127, 127] },
}
const version: ResolvedVersion = {
  id: ID, name: 'flowers', version: 2, state: 'ready', failureReason: null, descriptor,
  classes: [{ id: 'red', name: 'red' }, { id: 'green', name: 'green' }, { id: 'blue', name: 'blue' }],
}

const checked = (over: Partial<ModelChecked> = {}): ModelChecked => ({ type: 'model.checked', model: ID, ok: true, loadMs: 412, inferMs: 31.5, outputs: 4, ...over })

test('smokeVerdict: a page that ran it with as many outputs as the manifest says passes', T, () => {
  assert.deepEqual(smokeVerdict(checked(), descriptor, 'vm-1'), { ok: true, reason: null, loadMs: 412, inferMs: 31.5, worker: 'vm-1' })
})

test('smokeVerdict: a page error fails the version with the page\'s reason', T, () => {
  const v = smokeVerdict(checked({ ok: false, reason: 'Unknown layer: MyLayer', outputs: 0 }), descriptor, 'vm-1')
  assert.equal(v.ok, false)
  assert.match(v.reason ?? '', /could not run it: Unknown layer: MyLayer/)
  assert.equal(v.worker, 'vm-1')
  assert.match(smokeVerdict(checked({ ok: false, reason: undefined }), descriptor, 'vm-1').reason ?? '', /no reason given/)
})

test('smokeVerdict: a wrong output count fails the version, naming both counts', T, () => {
  for (const outputs of [3, 5, 0]) {
    const v = smokeVerdict(checked({ outputs }), descriptor, 'vm-1')
    assert.equal(v.ok, false, `${outputs} outputs`)
    assert.match(v.reason ?? '', new RegExp(`produced ${outputs} outputs; its manifest has 4`))
  }
})

type Channel = LiveWorker['channel'] & { sent: FromCoordinator[] }

function channel(accept = true): Channel {
  const sent: FromCoordinator[] = []
  return { sent, sendFrame: () => accept, sendMessage: (m) => (accept ? sent.push(m) > 0 : false), close: () => undefined }
}

function hello(kind: 'headless' | 'browser', name: string): WorkerHello {
  return { type: 'worker.hello', protocol: 1, kind, slots: 4, name, backend: 'wasm', threads: 1, simd: true }
}

/** A registry with these pages; `busy` jobs held by each in turn. */
function registryOf(pages: { id: string; kind?: 'headless' | 'browser'; trusted?: boolean; draining?: boolean; busy?: number; accept?: boolean }[]) {
  const registry = new WorkerRegistry()
  const channels = new Map<string, Channel>()
  for (const p of pages) {
    const ch = channel(p.accept ?? true)
    channels.set(p.id, ch)
    registry.add({
      id: p.id, hello: hello(p.kind ?? 'browser', `${p.id}-name`), trust: { trusted: p.trusted ?? true, identity: p.id, network: null },
      slots: 4, draining: p.draining ?? false, channel: ch,
    })
    for (let i = 0; i < (p.busy ?? 0); i++) registry.hold(p.id, `${p.id}-job-${i}`, { token: 1, leaseExpiresAt: 9e15, submittedAt: 0 })
  }
  return { registry, channels }
}

test('pickChecker: a headless runtime first, then the least busy trusted page', T, () => {
  const { registry } = registryOf([{ id: 'tab-busy', busy: 3 }, { id: 'tab-idle' }, { id: 'vm-busy', kind: 'headless', busy: 2 }, { id: 'vm-idle', kind: 'headless', busy: 1 }])
  const all = [...registry.all()]
  assert.equal(pickChecker(all, new Set())?.id, 'vm-idle')
  assert.equal(pickChecker(all, new Set(['vm-idle']))?.id, 'vm-busy')
  assert.equal(pickChecker(all, new Set(['vm-idle', 'vm-busy']))?.id, 'tab-idle')
  assert.equal(pickChecker(all, new Set(['vm-idle', 'vm-busy', 'tab-idle']))?.id, 'tab-busy')
})

test('pickChecker: never a volunteer, a draining page, or one that was tried', T, () => {
  const { registry } = registryOf([
    { id: 'volunteer', kind: 'browser', trusted: false }, { id: 'volunteer-vm', kind: 'headless', trusted: false },
    { id: 'leaving', kind: 'headless', draining: true }, { id: 'tried', kind: 'headless' }, { id: 'tab' },
  ])
  const all = [...registry.all()]
  assert.equal(pickChecker(all, new Set(['tried']))?.id, 'tab')
  assert.equal(pickChecker(all, new Set(['tried', 'tab'])), undefined)
  assert.equal(pickChecker([], new Set()), undefined)
})

/** What SmokeTests needs of the repository, recording the verdicts. */
function fakeRepository(versions: ResolvedVersion[]) {
  const settled: { id: string; verdict: SmokeVerdict }[] = []
  const calls = { settle: 0 }
  const repo = {
    validating: async () => versions.filter((v) => v.state === 'validating'),
    byId: async (id: string) => versions.find((v) => v.id === id),
    settle: async (id: string, verdict: SmokeVerdict) => {
      calls.settle++
      const v = versions.find((x) => x.id === id)
      if (!v || v.state !== 'validating') return false
      v.state = verdict.ok ? 'ready' : 'failed'
      settled.push({ id, verdict })
      return true
    },
  }
  // SmokeTests takes the repository class; these three methods are all it calls.
  return { repo: repo as unknown as ModelRepository, settled, calls }
}

test('SmokeTests: a validating version goes to a trusted page, whose answer settles it', T, async () => {
  const v: ResolvedVersion = { ...version, state: 'validating' }
  const { repo, settled } = fakeRepository([v])
  const { registry, channels } = registryOf([{ id: 'volunteer', trusted: false }, { id: 'vm', kind: 'headless' }])
  const smoke = new SmokeTests(repo, registry, silent, { timeoutMs: 60_000, intervalMs: 1_000 })
  await smoke.kick()
  await smoke.kick()
  assert.deepEqual(channels.get('vm')!.sent, [{ type: 'model.check', model: ID }], 'asked once, not again while it is loading')
  assert.deepEqual(channels.get('volunteer')!.sent, [])
  await smoke.checked('volunteer', checked())
  assert.equal(settled.length, 0, 'an answer from a page that was not asked is ignored')
  await smoke.checked('vm', checked())
  assert.deepEqual(settled, [{ id: ID, verdict: { ok: true, reason: null, loadMs: 412, inferMs: 31.5, worker: 'vm-name' } }])
  await smoke.checked('vm', checked({ ok: false }))
  assert.equal(settled.length, 1, 'a second answer changes nothing')
})

test('SmokeTests: a page that does not answer in time is skipped; after three, the version fails', T, async () => {
  const v: ResolvedVersion = { ...version, state: 'validating' }
  const { repo, settled } = fakeRepository([v])
  const { registry, channels } = registryOf([{ id: 'p1', kind: 'headless' }, { id: 'p2', kind: 'headless', busy: 1 }, { id: 'p3', busy: 2 }, { id: 'p4', busy: 3 }])
  // timeoutMs 0: every kick finds the last page timed out.
  const smoke = new SmokeTests(repo, registry, silent, { timeoutMs: 0, intervalMs: 1_000 })
  for (let i = 0; i < 4; i++) await smoke.kick()
  assert.deepEqual(['p1', 'p2', 'p3', 'p4'].map((id) => channels.get(id)!.sent.length), [1, 1, 1, 0])
  assert.equal(settled.length, 1)
  assert.equal(settled[0]!.verdict.ok, false)
  assert.match(settled[0]!.verdict.reason ?? '', /3 worker pages did not finish/)
  // The late answer of a page given up on is ignored.
  await smoke.checked('p3', checked())
  assert.equal(v.state, 'failed')
})

test('SmokeTests: a version another coordinator settled is no longer waited for; its page\'s late answer is ignored', T, async () => {
  const v: ResolvedVersion = { ...version, state: 'validating' }
  const { repo, calls } = fakeRepository([v])
  const { registry, channels } = registryOf([{ id: 'vm', kind: 'headless' }])
  const smoke = new SmokeTests(repo, registry, silent, { timeoutMs: 60_000, intervalMs: 1_000 })
  await smoke.kick()
  assert.equal(channels.get('vm')!.sent.length, 1)
  v.state = 'ready' // a peer's page answered first
  await smoke.kick()
  await smoke.checked('vm', checked({ ok: false, reason: 'late' }))
  assert.equal(calls.settle, 0)
  assert.equal(v.state, 'ready')
})

test('SmokeTests: a page that left is replaced at once; with no trusted page, nothing is sent and nothing fails', T, async () => {
  const v: ResolvedVersion = { ...version, state: 'validating' }
  const { repo, settled } = fakeRepository([v])
  const { registry, channels } = registryOf([{ id: 'p1', kind: 'headless' }, { id: 'p2' }])
  const smoke = new SmokeTests(repo, registry, silent, { timeoutMs: 60_000, intervalMs: 1_000 })
  await smoke.kick()
  registry.remove('p1')
  await smoke.kick()
  assert.equal(channels.get('p2')!.sent.length, 1)
  registry.remove('p2')
  for (let i = 0; i < 5; i++) await smoke.kick()
  assert.equal(settled.length, 0, 'pages that left are not a verdict on the version')
})

const result = (top: { index: number; score: number }[], model = ID): JobResult => ({
  type: 'job.result', jobId: 'job-1', leaseToken: 7, model, top, timings: { decodeMs: 1, inferMs: 2 },
})
const models = { cached: (id: string) => (id === ID ? version : undefined) }
const held = (model?: string): HeldJob => ({ token: 7, leaseExpiresAt: 9e15, submittedAt: 0, model })

function retryableFailure(answer: ReturnType<typeof checkedResult>, message: RegExp): void {
  assert.equal(answer.type, 'job.failed')
  if (answer.type !== 'job.failed') return
  assert.deepEqual({ ...answer, message: '' }, { type: 'job.failed', jobId: 'job-1', leaseToken: 7, code: 'INFERENCE_FAILED', message: '', retryable: true })
  assert.match(answer.message, message)
}

test('checkedResult: a good result passes through unchanged', T, () => {
  const good = result([{ index: 1, score: 0.7 }, { index: 3, score: 0.2 }])
  assert.equal(checkedResult(good, held(ID), models), good)
  // A lease this coordinator does not hold (taken back, or another's) is checked against the version alone.
  assert.equal(checkedResult(good, undefined, models), good)
  assert.equal(checkedResult(good, held(), models), good)
})

test('checkedResult: a result from another version than the job was assigned is a retryable failure', T, () => {
  const wrong = { ...version, id: OTHER }
  const both = { cached: (id: string) => (id === ID ? version : id === OTHER ? wrong : undefined) }
  retryableFailure(checkedResult(result([{ index: 1, score: 0.9 }], OTHER), held(ID), both), /answered with model bbbbbbbbbbbb, assigned aaaaaaaaaaaa/)
})

test('checkedResult: a version this coordinator does not know is a retryable failure', T, () => {
  retryableFailure(checkedResult(result([{ index: 1, score: 0.9 }], OTHER), undefined, models), /does not know \(bbbbbbbbbbbb\)/)
})

test('checkedResult: an index below labelOffset or past the outputs is a retryable failure', T, () => {
  retryableFailure(checkedResult(result([{ index: 0, score: 0.9 }]), held(ID), models), /output index 0 is outside flowers v2's classes \(1\.\.3\)/)
  retryableFailure(checkedResult(result([{ index: 2, score: 0.6 }, { index: 4, score: 0.3 }]), held(ID), models), /output index 4 is outside/)
  retryableFailure(checkedResult(result([{ index: 1000, score: 0.9 }]), held(ID), models), /output index 1000/)
  // The edges themselves are classes.
  const edges = result([{ index: 1, score: 0.5 }, { index: 3, score: 0.5 }])
  assert.equal(checkedResult(edges, held(ID), models), edges)
})
