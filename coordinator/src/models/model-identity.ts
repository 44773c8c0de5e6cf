import { createHash } from 'node:crypto'
import type { ModelDescriptor, ModelFormat } from '@hivesight/protocol'
import type { StoredFile } from '../db/model.repository.ts'
import type { ModelManifest } from './model-validator.ts'

export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex')

/** What a version is made of, before it has a number. */
export interface VersionContent {
  format: ModelFormat
  manifest: ModelManifest
  /** model.json first, then the shards in manifest order. */
  files: StoredFile[]
}

export function contentOf(format: ModelFormat, manifest: ModelManifest, modelJson: Buffer, shards: { path: string; bytes: Buffer }[]): VersionContent {
  const files = [{ path: 'model.json', bytes: modelJson }, ...shards].map((f) => ({ path: f.path, bytes: f.bytes, sha256: sha256(f.bytes) }))
  return { format, manifest, files }
}

/** The version's id: sha256 of its manifest and of every file, so the same upload twice is the same version. */
export function versionId(c: VersionContent): string {
  const h = createHash('sha256').update(JSON.stringify({ format: c.format, manifest: c.manifest }))
  for (const f of c.files) h.update(`\n${f.path} ${f.sha256}`)
  return h.digest('hex')
}

export function descriptorOf(c: VersionContent, id: string, name: string, version: number): ModelDescriptor {
  return {
    id, name, version, format: c.format,
    files: c.files.map((f) => ({ path: f.path, sha256: f.sha256, bytes: f.bytes.length })),
    preprocessing: c.manifest.preprocessing, outputs: c.manifest.outputs, labelOffset: c.manifest.labelOffset, softmax: c.manifest.softmax,
  }
}
