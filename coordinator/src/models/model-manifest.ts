import type { Preprocessing, ResizeRule } from '@hivesight/protocol'
import { Type } from 'typebox'
import { Compile } from 'typebox/compile'
import type { ClassLabel } from './model-lookup.ts'
import type { ModelManifest, ModelProblem } from './model-validator.ts'

// The two manifest dialects an upload may carry: our hivesight.json, and the metadata.json a Teachable
// Machine export holds. Both become one ModelManifest, or a list of problems naming the field.

export const LABEL_MAX = 200
/** Labels are checked by hand: a union's schema errors would not tell the uploader which form was meant. */
const Labels = Type.Array(Type.Unknown(), { minItems: 1, maxItems: 100_000 })

// Enums rather than the protocol's literal unions: typebox reports one error naming the allowed values
// instead of one per branch.
const RESIZE_RULES = ['shorter-side-then-centre-crop', 'centre-crop-then-resize', 'stretch'] as const satisfies readonly ResizeRule[]

const HivesightJson = Type.Object({
  labels: Labels,
  labelOffset: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
  softmax: Type.Optional(Type.Boolean()),
  input: Type.Object({
    size: Type.Integer({ minimum: 8, maximum: 1024 }),
    channels: Type.Optional(Type.Enum([1, 3])),
    resize: Type.Optional(Type.Enum(RESIZE_RULES)),
    resizeShorterTo: Type.Optional(Type.Integer({ minimum: 8, maximum: 2048 })),
    range: Type.Optional(Type.Array(Type.Number(), { minItems: 2, maxItems: 2 })),
    mean: Type.Optional(Type.Array(Type.Number(), { minItems: 3, maxItems: 3 })),
    std: Type.Optional(Type.Array(Type.Number({ exclusiveMinimum: 0 }), { minItems: 3, maxItems: 3 })),
  }, { additionalProperties: false }),
}, { additionalProperties: false })
const checkHivesight = Compile(HivesightJson)

// Only the fields we read are checked: the rest of a TM export's metadata is informational.
const TeachableMetadata = Type.Object({
  labels: Labels,
  imageSize: Type.Optional(Type.Integer({ minimum: 8, maximum: 1024 })),
})
const checkTeachable = Compile(TeachableMetadata)

type Parsed = { ok: true; manifest: ModelManifest } | { ok: false; problems: ModelProblem[] }
interface SchemaError { keyword: string; schemaPath: string; instancePath: string; message: string; params: unknown }

/** "/labels/3/name" → "labels[3].name" */
const fieldName = (pointer: string) => pointer.split('/').slice(1).reduce((out, k) => (/^\d+$/.test(k) ? `${out}[${k}]` : out ? `${out}.${k}` : k), '')

/** typebox errors (at most 8: its global default) as "field message", without a union's per-branch echoes. */
function schemaProblems(file: string, errors: Iterable<SchemaError>): ModelProblem[] {
  const seen = new Set<string>()
  const out: ModelProblem[] = []
  for (const e of errors) {
    if (e.keyword === 'boolean' || e.schemaPath.includes('/anyOf/')) continue
    const field = fieldName(e.instancePath)
    const params = e.params as { additionalProperties?: unknown; allowedValues?: unknown }
    const detail = e.keyword === 'additionalProperties' && Array.isArray(params.additionalProperties)
      ? `has unknown field(s) ${params.additionalProperties.join(', ')}`
      : e.keyword === 'enum' && Array.isArray(params.allowedValues)
        ? `must be one of ${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`
        : e.keyword === 'anyOf' ? 'has the wrong type' : e.message
    const message = field ? `${file} field ${field} ${detail}.` : `${file} ${detail}.`
    if (seen.has(message)) continue
    seen.add(message)
    out.push({ file, rule: 'manifest', message })
    if (out.length >= 10) break
  }
  return out
}

const isLabelText = (v: unknown): v is string => typeof v === 'string' && v.length >= 1 && v.length <= LABEL_MAX

/**
 * Strings, or (hivesight.json) {id?, name}. Ids identify outputs, so they must be unique; names may repeat
 * (ImageNet has two "crane"s).
 */
function parseLabels(file: string, raw: unknown[], objects: boolean): { labels: ClassLabel[]; problems: ModelProblem[] } {
  const labels: ClassLabel[] = []
  const problems: ModelProblem[] = []
  const wanted = `a label of 1 to ${LABEL_MAX} characters${objects ? ' or {"id"?: …, "name": …} with such labels' : ''}`
  for (const [i, v] of raw.entries()) {
    if (isLabelText(v)) {
      labels.push({ id: v, name: v })
      continue
    }
    if (objects && typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const { id, name, ...rest } = v as Record<string, unknown>
      if (isLabelText(name) && (id === undefined || isLabelText(id)) && Object.keys(rest).length === 0) {
        labels.push({ id: id ?? name, name })
        continue
      }
    }
    const shown = (JSON.stringify(v) ?? String(v)).slice(0, 60)
    if (problems.length < 5) problems.push({ file, rule: 'manifest', message: `${file} field labels[${i}] is ${shown}; it must be ${wanted}.` })
  }
  const seen = new Set<string>()
  const dup = new Set<string>()
  for (const l of labels) (seen.has(l.id) ? dup : seen).add(l.id)
  if (dup.size > 0) {
    problems.push({ file, rule: 'manifest', message: `${file} field labels lists ${[...dup].slice(0, 5).map((d) => JSON.stringify(d)).join(', ')} more than once; every class needs its own label.` })
  }
  return { labels, problems }
}

/** Schema problems, plus those of the labels (checked apart from the schema) when they are a list at all. */
function refuse(file: string, value: unknown, errors: Iterable<SchemaError>, objects: boolean): Parsed {
  const problems = schemaProblems(file, errors)
  const labels = typeof value === 'object' && value !== null && 'labels' in value ? value.labels : undefined
  if (Array.isArray(labels)) problems.push(...parseLabels(file, labels, objects).problems)
  return { ok: false, problems }
}

export function parseHivesightManifest(value: unknown, file = 'hivesight.json'): Parsed {
  if (!checkHivesight.Check(value)) return refuse(file, value, checkHivesight.Errors(value), true)
  const { labels, problems } = parseLabels(file, value.labels, true)
  const input = value.input
  const resize = input.resize ?? 'shorter-side-then-centre-crop'
  let mean = [0, 0, 0]
  let std = [255, 255, 255]
  if (input.range !== undefined && (input.mean !== undefined || input.std !== undefined)) {
    problems.push({ file, rule: 'manifest', message: `${file} field input gives both range and mean/std; give one of them.` })
  } else if ((input.mean === undefined) !== (input.std === undefined)) {
    problems.push({ file, rule: 'manifest', message: `${file} field input.${input.mean === undefined ? 'mean' : 'std'} is missing: mean and std go together.` })
  } else if (input.mean !== undefined && input.std !== undefined) {
    mean = input.mean
    std = input.std
  } else if (input.range !== undefined) {
    const [a, b] = input.range as [number, number]
    if (!(b > a)) problems.push({ file, rule: 'manifest', message: `${file} field input.range must be [min, max] with max > min.` })
    // v in 0..255 → a + v/255·(b−a) = (v − mean) / std
    const s = 255 / (b - a)
    const m = a === 0 ? 0 : -a * s // a = 0 would give −0
    std = [s, s, s]
    mean = [m, m, m]
  }
  const preprocessing: Preprocessing = { inputSize: input.size, channels: input.channels ?? 3, resize, mean, std }
  if (resize === 'shorter-side-then-centre-crop') {
    const shorter = input.resizeShorterTo ?? Math.round((input.size * 256) / 224)
    if (shorter < input.size) problems.push({ file, rule: 'manifest', message: `${file} field input.resizeShorterTo (${shorter}) must be at least input.size (${input.size}).` })
    preprocessing.resizeShorterTo = shorter
  } else if (input.resizeShorterTo !== undefined) {
    problems.push({ file, rule: 'manifest', message: `${file} field input.resizeShorterTo only applies to resize "shorter-side-then-centre-crop", not "${resize}".` })
  }
  if (problems.length > 0) return { ok: false, problems }
  const labelOffset = value.labelOffset ?? 0
  return { ok: true, manifest: { labels, labelOffset, softmax: value.softmax ?? true, preprocessing, outputs: labels.length + labelOffset } }
}

/** A Teachable Machine image export: its model ends in softmax and expects x/127 − 1 on a centre crop. */
export function parseTeachableMetadata(value: unknown, file = 'metadata.json'): Parsed {
  if (!checkTeachable.Check(value)) return refuse(file, value, checkTeachable.Errors(value), false)
  const { labels, problems } = parseLabels(file, value.labels, false)
  if (problems.length > 0) return { ok: false, problems }
  return {
    ok: true,
    manifest: {
      labels,
      labelOffset: 0,
      softmax: false,
      preprocessing: { inputSize: value.imageSize ?? 224, channels: 3, resize: 'centre-crop-then-resize', mean: [127, 127, 127], std: [127, 127, 127] },
      outputs: labels.length,
    },
  }
}

const ImageNetLabels = Type.Array(Type.Object({
  index: Type.Integer(),
  wnid: Type.Union([Type.String({ minLength: 1 }), Type.Null()]),
  name: Type.String({ minLength: 1 }),
}), { minItems: 1001, maxItems: 1001 })
const checkImageNet = Compile(ImageNetLabels)

/** MobileNet-style built-in: used to import ../shared/models/mobilenet_v2_1.0_224 (labels.json = [{index,wnid,name}] ×1001, index 0 background). */
export function manifestFromImageNetLabels(labelsJson: unknown): ModelManifest {
  if (!checkImageNet.Check(labelsJson)) {
    const first = [...checkImageNet.Errors(labelsJson)][0]
    throw new Error(`labels.json is not 1001 ImageNet entries {index, wnid, name}: ${first ? `${first.instancePath} ${first.message}` : 'invalid'}`)
  }
  const labels = labelsJson.slice(1).map((e, i) => {
    // Output i + 1 is labels[i]: an entry out of place would shift every answer after it.
    if (e.index !== i + 1 || e.wnid === null) throw new Error(`labels.json entry ${i + 1} must have index ${i + 1} and a wnid`)
    return { id: e.wnid, name: e.name }
  })
  return {
    labels,
    labelOffset: 1,
    softmax: true,
    preprocessing: { inputSize: 224, channels: 3, resize: 'shorter-side-then-centre-crop', resizeShorterTo: 256, mean: [0, 0, 0], std: [255, 255, 255] },
    outputs: 1001,
  }
}
