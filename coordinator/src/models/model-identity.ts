import { createHash } from 'node:crypto'
import type { ModelDescriptor, ModelFormat } from '@hivesight/protocol'
import type { StoredFile } from '../db/model.repository.ts'
import type { GoldenImage, ModelManifest } from './model-validator.ts'

export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex')

/** What a version is made of, before it has a number. */
export interface VersionContent {
  format: ModelFormat
  manifest: ModelManifest
  /** model.json first, then the shards in manifest order, then any golden images. */
  files: StoredFile[]
  golden: Omit<GoldenImage, 'bytes'>[]
}

export function contentOf(format: ModelFormat, manifest: ModelManifest, modelJson: Buffer, shards: { path: string; bytes: Buffer }[], golden: GoldenImage[] = []): VersionContent {
  const files = [{ path: 'model.json', bytes: modelJson }, ...shards, ...golden].map((f) => ({ path: f.path, bytes: f.bytes, sha256: sha256(f.bytes) }))
  return { format, manifest, files, golden: golden.map(({ bytes: _bytes, ...g }) => g) }
}

/** The version's id: sha256 of its manifest and of every file, so the same upload twice is the same version. */
export function versionId(c: VersionContent): string {
  const h = createHash('sha256').update(JSON.stringify({ format: c.format, manifest: c.manifest }))
  for (const f of c.files) h.update(`\n${f.path} ${f.sha256}`)
  return h.digest('hex')
}

export function descriptorOf(c: VersionContent, id: string, name: string, version: number): ModelDescriptor {
  const goldenPaths = new Set(c.golden.map((g) => g.path))
  const ref = (f: StoredFile) => ({ path: f.path, sha256: f.sha256, bytes: f.bytes.length })
  return {
    id, name, version, format: c.format,
    // What the page loads: model.json and the weights only.
    files: c.files.filter((f) => !goldenPaths.has(f.path)).map(ref),
    preprocessing: c.manifest.preprocessing, outputs: c.manifest.outputs, labelOffset: c.manifest.labelOffset, softmax: c.manifest.softmax,
    ...(c.golden.length > 0 ? { golden: c.golden.map((g) => ({ ...ref(c.files.find((f) => f.path === g.path)!), contentType: g.contentType, label: g.label, expected: g.expected })) } : {}),
  }
}
