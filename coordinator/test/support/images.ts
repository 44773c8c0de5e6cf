import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { REPO_ROOT } from '../../src/config.ts'

const DATASET = process.env.DATASET_DIR ?? resolve(REPO_ROOT, '../shared/datasets/imagenet-val-dev')

/** Real JPEGs from the development set. */
export const jpeg = (name = 'val-orig/ILSVRC2012_val_00000001.JPEG'): Buffer => readFileSync(resolve(DATASET, name))

export { tinyPng } from './hostile-payloads.ts'

/** A small PNG that really decodes (tinyPng only passes the header checks), of one colour. */
export async function decodablePng(r = 200, g = 120, b = 40): Promise<Buffer> {
  const { default: sharp } = await import('sharp')
  return sharp({ create: { width: 40, height: 30, channels: 3, background: { r, g, b } } }).png().toBuffer()
}
