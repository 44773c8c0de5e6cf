import type { StoredImage } from '../jobs/job-service.ts'
import type { ResolvedVersion } from '../models/model-lookup.ts'
import { ImageShrinker, type ShrinkEvents, type ShrinkOptions } from './image-shrinker.ts'

/**
 * What the job service stores of an accepted picture: shrunk for the job's version and its model's other
 * ready versions (a label's shadow runs the same picture), so none of them gets less than it reads.
 */
export function shrinkStage(models: { cached(id: string): ResolvedVersion | undefined; readyVersions(): ResolvedVersion[] }, opts: ShrinkOptions, events?: ShrinkEvents): StoredImage {
  const shrinker = new ImageShrinker((id) => models.cached(id)?.descriptor.preprocessing, opts, events)
  const siblings = (id: string) => [id, ...models.readyVersions().filter((v) => v.name === models.cached(id)?.name).map((v) => v.id)]
  return (bytes, info, id) => shrinker.prepare(bytes, info, siblings(id))
}
