import { Type, type Static } from 'typebox'
import { Compile } from 'typebox/compile'
import type { ModelProblem, UploadedModelFile } from './model-validator.ts'

// model.json's weightsManifest: which shard files exist, in what order, and how many bytes they must hold.
// A page fetches exactly these paths next to model.json, so they must be plain names, and a shard cut short
// (or padded) would load garbage weights or fail late, on a worker.

const WeightsManifest = Type.Array(Type.Object({
  paths: Type.Array(Type.String()),
  weights: Type.Array(Type.Object({
    name: Type.String(),
    shape: Type.Array(Type.Integer({ minimum: 0 })),
    dtype: Type.String(),
    quantization: Type.Optional(Type.Object({ dtype: Type.String() })),
  })),
}))
type WeightsManifest = Static<typeof WeightsManifest>
const checkManifest = Compile(WeightsManifest)

const SHARD_NAME = /^[A-Za-z0-9._-]{1,100}$/
/** Names the upload uses for something else: a shard with one of them could not be told apart. */
const RESERVED = new Set(['model.json', 'hivesight.json', 'metadata.json'])
const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, complex64: 8 }
const QUANTIZED_BYTES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 }

export interface ShardCheck {
  /** Shards in weightsManifest order, those that are present and validly named. */
  shards: { path: string; bytes: Buffer }[]
  /** Every path the manifest lists, valid or not (so they are not reported again as unexpected). */
  listed: Set<string>
  problems: ModelProblem[]
}

/** Bytes one weight takes in its shard, or a reason it cannot be counted. */
function weightBytes(w: WeightsManifest[number]['weights'][number]): number | string {
  const per = w.quantization ? QUANTIZED_BYTES[w.quantization.dtype] : DTYPE_BYTES[w.dtype]
  if (per === undefined) return w.quantization ? `quantization dtype "${w.quantization.dtype}"` : `dtype "${w.dtype}"`
  return w.shape.reduce((n, d) => n * d, 1) * per
}

export function checkShards(weightsManifest: unknown, files: ReadonlyMap<string, UploadedModelFile>): ShardCheck {
  const out: ShardCheck = { shards: [], listed: new Set(), problems: [] }
  const problem = (file: string, rule: ModelProblem['rule'], message: string) => out.problems.push({ file, rule, message })
  if (!checkManifest.Check(weightsManifest)) {
    const first = [...checkManifest.Errors(weightsManifest)].find((e) => e.keyword !== 'boolean')
    problem('model.json', 'unknown-format', `model.json has no usable weightsManifest (a list of {paths, weights}): ${first ? `${first.instancePath || 'weightsManifest'} ${first.message}` : 'invalid'}.`)
    return out
  }
  for (const group of weightsManifest) {
    let actual = 0
    let complete = true
    for (const path of group.paths) {
      const shown = JSON.stringify(path)
      if (out.listed.has(path)) {
        problem(path, 'shard-path', `model.json lists the weight file ${shown} more than once.`)
        complete = false
        continue
      }
      out.listed.add(path)
      if (!SHARD_NAME.test(path) || path === '.' || path === '..' || RESERVED.has(path)) {
        problem(path, 'shard-path', `model.json names the weight file ${shown}; weight files must be plain names (letters, digits, ".", "_", "-"; no folders), other than model.json and the manifests.`)
        complete = false
        continue
      }
      const file = files.get(path)
      if (!file) {
        problem(path, 'missing-file', `model.json needs the weight file ${path}, which was not uploaded.`)
        complete = false
        continue
      }
      out.shards.push({ path, bytes: file.bytes })
      actual += file.bytes.length
    }
    let expected = 0
    for (const w of group.weights) {
      if (w.dtype === 'string') {
        problem('model.json', 'string-weights', `model.json weight "${w.name}" holds strings; string weights have no fixed size and are not supported.`)
        complete = false
        continue
      }
      const bytes = weightBytes(w)
      if (typeof bytes === 'string') {
        problem(group.paths.join(', ') || 'model.json', 'shard-size', `model.json weight "${w.name}" has the unknown ${bytes}, so its size cannot be checked.`)
        complete = false
        continue
      }
      expected += bytes
    }
    if (complete && expected !== actual) {
      const names = group.paths.join(', ') || 'model.json'
      problem(names, 'shard-size', `The weight file(s) ${names} hold ${actual} bytes, but the weights model.json lists for them need ${expected} bytes.`)
    }
  }
  return out
}
