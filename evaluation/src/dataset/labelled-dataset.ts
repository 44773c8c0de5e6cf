import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface LabelledImage {
  /** Path relative to the dataset folder, e.g. val-227/ILSVRC2012_val_00000003.JPEG. */
  file: string
  path: string
  wnid: string
  classIndex: number
  /** The first folder of `file` (val-orig, val-227, class-samples), or "." */
  subset: string
}

/** A folder with `labels.csv` (filename,wnid,class_index), as in ../shared/datasets/imagenet-val-dev. */
export function readLabelledDataset(dir: string): LabelledImage[] {
  let text: string
  try {
    text = readFileSync(join(dir, 'labels.csv'), 'utf8')
  } catch {
    throw new Error(`${dir} has no labels.csv (expected lines "filename,wnid,class_index")`)
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '')
  const header = lines.shift()?.split(',').map((h) => h.trim())
  if (header?.[0] !== 'filename' || header[1] !== 'wnid') throw new Error(`${dir}/labels.csv must start with "filename,wnid,class_index"`)
  return lines.map((line, n) => {
    const [file, wnid, classIndex] = line.split(',').map((c) => c.trim())
    if (!file || !wnid) throw new Error(`${dir}/labels.csv line ${n + 2} is incomplete: ${line}`)
    return { file, path: join(dir, file), wnid, classIndex: Number(classIndex), subset: file.includes('/') ? file.split('/')[0]! : '.' }
  })
}

/** n images spread evenly over the list (every subset represented), always the same ones for the same n. */
export function spreadSample<T>(items: T[], n: number): T[] {
  if (n >= items.length) return items
  return Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)]!)
}
