import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { ModelProblem, ModelRule, UploadedModelFile } from '../../src/models/model-validator.ts'

// Uploads to break: the real MobileNet graph model (read in place from ../shared, never copied) and small
// edits of any upload's files.

export const MOBILENET_DIR = resolve(import.meta.dirname, '../../../../shared/models/mobilenet_v2_1.0_224')

/** The parts of model.json the tests edit. */
export interface ModelJson {
  format?: string
  modelTopology: {
    node?: GraphNode[]
    library?: { function?: { signature?: unknown; nodeDef: GraphNode[] }[] }
    class_name?: string
    config?: { name: string; layers: LayerJson[] }
  }
  weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string; quantization?: { dtype: string } }[] }[]
  signature?: unknown
}
export interface GraphNode { name: string; op: string; attr?: Record<string, unknown>; input?: string[] }
export interface LayerJson { class_name: string; config: Record<string, unknown> }

const json = (v: unknown) => Buffer.from(JSON.stringify(v))

let mobilenet: UploadedModelFile[] | undefined

/** model.json, its 4 shards and a hivesight.json: 1000 ImageNet labels after the background output. */
export function mobilenetUpload(): UploadedModelFile[] {
  if (!mobilenet) {
    const read = (name: string) => ({ name, bytes: readFileSync(resolve(MOBILENET_DIR, name)) })
    const entries = JSON.parse(readFileSync(resolve(MOBILENET_DIR, 'labels.json'), 'utf8')) as { wnid: string | null; name: string }[]
    const hivesight = { labels: entries.slice(1).map((e) => ({ id: e.wnid, name: e.name })), labelOffset: 1, input: { size: 224, range: [0, 1] } }
    mobilenet = [
      read('model.json'),
      ...[1, 2, 3, 4].map((i) => read(`group1-shard${i}of4.bin`)),
      { name: 'hivesight.json', bytes: json(hivesight) },
    ]
  }
  return mobilenet
}

/** `files` with `name` replaced (in place) or added. */
export function put(files: UploadedModelFile[], name: string, bytes: Buffer): UploadedModelFile[] {
  const i = files.findIndex((f) => f.name === name)
  return i < 0 ? [...files, { name, bytes }] : files.map((f, j) => (j === i ? { name, bytes } : f))
}

export const drop = (files: UploadedModelFile[], name: string) => files.filter((f) => f.name !== name)

function bytesOf(files: UploadedModelFile[], name: string): Buffer {
  const f = files.find((x) => x.name === name)
  assert.ok(f, `${name} is in the upload`)
  return f.bytes
}

/** A manifest edited as plain JSON. */
export function editJson(files: UploadedModelFile[], name: string, edit: (doc: Record<string, unknown>) => void): UploadedModelFile[] {
  const doc = JSON.parse(bytesOf(files, name).toString('utf8')) as Record<string, unknown>
  edit(doc)
  return put(files, name, json(doc))
}

export function editModel(files: UploadedModelFile[], edit: (model: ModelJson) => void): UploadedModelFile[] {
  const model = JSON.parse(bytesOf(files, 'model.json').toString('utf8')) as ModelJson
  edit(model)
  return put(files, 'model.json', json(model))
}

/** The layers of a (Sequential) layers model.json. */
export function layersOf(model: ModelJson): LayerJson[] {
  const layers = model.modelTopology.config?.layers
  assert.ok(layers, 'a Sequential layers model')
  return layers
}

type Result = { ok: true } | { ok: false; problems: ModelProblem[] }

/** The upload is refused with (at least) this rule on this file; returns the problems of that rule. */
export function expectProblem(result: Result, rule: ModelRule, file: string): ModelProblem[] {
  assert.ok(!result.ok, `expected a ${rule} problem, but the upload passed`)
  const hits = result.problems.filter((p) => p.rule === rule && p.file === file)
  assert.ok(hits.length > 0, `expected ${rule} on ${file}, got ${JSON.stringify(result.problems, null, 1)}`)
  for (const p of hits) assert.ok(p.message.length > 20 && p.message.endsWith('.'), `a sentence: ${p.message}`)
  return hits
}
