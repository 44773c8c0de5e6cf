import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { REPO_ROOT } from '../../src/config.ts'

const DATASET = process.env.DATASET_DIR ?? resolve(REPO_ROOT, '../shared/datasets/imagenet-val-dev')

/** Real JPEGs from the development set. */
export const jpeg = (name = 'val-orig/ILSVRC2012_val_00000001.JPEG'): Buffer => readFileSync(resolve(DATASET, name))

/** The smallest valid PNG: 1×1, made here so the tests need no fixture file. */
export const tinyPng = (): Buffer => Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082',
  'hex',
)
