import type { ModelFormat, Preprocessing } from '@hivesight/protocol'
import { AppError } from '../errors/app-errors.ts'
import { inspectImage } from '../images/image-inspector.ts'
import type { ClassLabel } from './model-lookup.ts'
import { parseHivesightManifest, parseTeachableMetadata } from './model-manifest.ts'
import { checkGraph, checkLayers, detectFormat } from './model-topology.ts'
import { checkShards } from './model-weights.ts'

export { manifestFromImageNetLabels } from './model-manifest.ts'

// Pure check of a model upload before anything is stored. Whatever passes is handed to worker pages, which
// run it next to other people's images: so no code, nothing tfjs cannot run, and sizes that add up. Every
// problem found is reported at once, so an uploader fixes their export in one go.

export interface UploadedModelFile { name: string; bytes: Buffer }
export interface ValidationLimits { maxModelBytes: number; maxClasses: number }
export type ModelRule = 'missing-file' | 'bad-json' | 'unknown-format' | 'shard-path' | 'shard-size' | 'string-weights' | 'input-shape' | 'output-size' | 'unsupported-op' | 'too-large' | 'code' | 'manifest' | 'unexpected-file' | 'golden'
/** `message` is a sentence for the uploader. */
export interface ModelProblem { file: string; rule: ModelRule; message: string }
export interface ModelManifest { labels: ClassLabel[]; labelOffset: number; softmax: boolean; preprocessing: Preprocessing; outputs: number }
export interface ValidModel {
  format: ModelFormat
  /** Exactly as uploaded. */
  modelJson: Buffer
  /** In weightsManifest order. */
  shards: { path: string; bytes: Buffer }[]
  manifest: ModelManifest
  manifestSource: 'hivesight.json' | 'metadata.json'
  /** model.json plus the shards. */
  totalBytes: number
  /** Images whose top-1 the smoke test checks (`golden-<label>.<jpg|png|webp>`). */
  golden: GoldenImage[]
}

export interface GoldenImage { path: string; bytes: Buffer; contentType: string; label: string; expected: number }

const GOLDEN = /^golden-(.+)\.(jpe?g|png|webp)$/i
const MAX_GOLDEN = 16

/** Golden images name a class of the manifest and are images: each becomes the output index it must win. */
function readGolden(files: ReadonlyMap<string, UploadedModelFile>, manifest: ModelManifest | null, problems: ModelProblem[]): GoldenImage[] {
  const out: GoldenImage[] = []
  const named = [...files.values()].filter((f) => GOLDEN.test(f.name))
  if (named.length > MAX_GOLDEN) problems.push({ file: named[MAX_GOLDEN]!.name, rule: 'golden', message: `At most ${MAX_GOLDEN} golden images may come with a model; this upload has ${named.length}.` })
  for (const f of named.slice(0, MAX_GOLDEN)) {
    const label = GOLDEN.exec(f.name)![1]!
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(f.name)) {
      problems.push({ file: f.name, rule: 'golden', message: `${f.name}: a golden image's name may hold only letters, digits, ".", "_" and "-" (name it by the class id if its label has spaces).` })
      continue
    }
    const at = manifest?.labels.findIndex((c) => c.name === label || c.id === label) ?? -1
    if (manifest && at < 0) problems.push({ file: f.name, rule: 'golden', message: `${f.name} names the class "${label}", which the manifest does not list.` })
    try {
      const info = inspectImage(f.bytes)
      if (manifest && at >= 0) out.push({ path: f.name, bytes: f.bytes, contentType: info.contentType, label, expected: manifest.labelOffset + at })
    } catch (err) {
      problems.push({ file: f.name, rule: 'golden', message: `${f.name} is not an image a page can decode (${err instanceof AppError ? err.message : String(err)}).` })
    }
  }
  return out
}

const CODE_EXTENSIONS = /\.(js|mjs|cjs|html|htm|wasm|py)$/i

/**
 * Markup or a script, by the first bytes. Weight shards are raw floats, and one starting with the byte
 * 0x3C ("<") is common enough (1 in 256), so for them only "<" followed by what opens a tag counts.
 */
function looksLikeCode(bytes: Buffer, binary: boolean): boolean {
  if (binary) return bytes.subarray(0, 2).toString('latin1') === '#!' || /^<[A-Za-z!?/]/.test(bytes.subarray(0, 2).toString('latin1'))
  const head = bytes.subarray(0, 64).toString('utf8').replace(/^\uFEFF/, '').trimStart()
  return head.startsWith('<') || head.startsWith('#!')
}

function parseJson(file: UploadedModelFile, problems: ModelProblem[]): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(file.bytes.toString('utf8').replace(/^\uFEFF/, '')) }
  } catch (err) {
    problems.push({ file: file.name, rule: 'bad-json', message: `${file.name} is not valid JSON (${err instanceof Error ? err.message : String(err)}).` })
    return { ok: false }
  }
}

function readManifest(files: ReadonlyMap<string, UploadedModelFile>, limits: ValidationLimits, problems: ModelProblem[]) {
  // Both present: ours is the deliberate one (a TM export with a hivesight.json added to correct it).
  const source = files.has('hivesight.json') ? 'hivesight.json' : files.has('metadata.json') ? 'metadata.json' : null
  if (!source) {
    problems.push({ file: 'hivesight.json', rule: 'missing-file', message: 'The upload has no hivesight.json (or Teachable Machine metadata.json) describing the labels and the input.' })
    return null
  }
  const json = parseJson(files.get(source)!, problems)
  if (!json.ok) return null
  const parsed = source === 'hivesight.json' ? parseHivesightManifest(json.value, source) : parseTeachableMetadata(json.value, source)
  if (!parsed.ok) {
    problems.push(...parsed.problems)
    return null
  }
  if (parsed.manifest.labels.length > limits.maxClasses) {
    problems.push({ file: source, rule: 'too-large', message: `${source} lists ${parsed.manifest.labels.length} classes; at most ${limits.maxClasses} are allowed.` })
  }
  return { source, manifest: parsed.manifest } as const
}

export function validateModelUpload(files: UploadedModelFile[], limits: ValidationLimits): { ok: true; model: ValidModel } | { ok: false; problems: ModelProblem[] } {
  const problems: ModelProblem[] = []
  const byName = new Map<string, UploadedModelFile>()
  for (const f of files) {
    if (byName.has(f.name)) problems.push({ file: f.name, rule: 'unexpected-file', message: `${f.name} was uploaded more than once.` })
    else byName.set(f.name, f)
  }
  const uploaded = files.reduce((n, f) => n + f.bytes.length, 0)
  if (uploaded > limits.maxModelBytes) {
    problems.push({ file: '(all files)', rule: 'too-large', message: `The upload holds ${uploaded} bytes; models may be at most ${limits.maxModelBytes} bytes.` })
  }

  const manifest = readManifest(byName, limits, problems)
  const manifestFile = manifest?.source ?? 'the manifest'

  let format: ModelFormat | null = null
  let shards: ReturnType<typeof checkShards> | null = null
  const modelFile = byName.get('model.json')
  if (!modelFile) {
    problems.push({ file: 'model.json', rule: 'missing-file', message: 'The upload has no model.json (the TensorFlow.js model description).' })
  } else {
    const json = parseJson(modelFile, problems)
    if (json.ok && (typeof json.value !== 'object' || json.value === null || Array.isArray(json.value))) {
      problems.push({ file: 'model.json', rule: 'unknown-format', message: 'model.json is JSON but not an object; it is not a TensorFlow.js model.' })
    } else if (json.ok) {
      const model = json.value as Record<string, unknown>
      shards = checkShards(model.weightsManifest, byName)
      problems.push(...shards.problems)
      const detected = detectFormat(model)
      if (!detected.ok) {
        problems.push({ file: 'model.json', rule: 'unknown-format', message: detected.message })
      } else {
        format = detected.format
        const check = format === 'graph' ? checkGraph : checkLayers
        problems.push(...check(model, manifest?.manifest ?? null, manifestFile))
      }
    }
  }

  const golden = readGolden(byName, manifest?.manifest ?? null, problems)
  for (const f of byName.values()) {
    const isShard = (shards?.listed.has(f.name) ?? false) || GOLDEN.test(f.name)
    if (CODE_EXTENSIONS.test(f.name) || looksLikeCode(f.bytes, isShard)) {
      problems.push({ file: f.name, rule: 'code', message: `${f.name} looks like code or markup (by its name or first bytes); uploads may hold only model.json, weight files and the manifest.` })
    }
    // Without a readable weightsManifest nobody knows which files are shards: not reported as unexpected then.
    const known = f.name === 'model.json' || f.name === 'hivesight.json' || f.name === 'metadata.json' || isShard || GOLDEN.test(f.name)
    if (shards && !known) {
      problems.push({ file: f.name, rule: 'unexpected-file', message: `${f.name} is not model.json, the manifest, or a weight file model.json lists; remove it from the upload.` })
    }
  }

  if (problems.length > 0 || !manifest || !format || !shards || !modelFile) return { ok: false, problems }
  return {
    ok: true,
    model: {
      format,
      modelJson: modelFile.bytes,
      shards: shards.shards,
      manifest: manifest.manifest,
      manifestSource: manifest.source,
      totalBytes: modelFile.bytes.length + shards.shards.reduce((n, s) => n + s.bytes.length, 0),
      golden,
    },
  }
}
