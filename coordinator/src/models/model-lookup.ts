import type { ModelDescriptor, ModelVersionState, ModelView } from '@hivesight/protocol'

/** One class of a model: `id` is a WordNet id for ImageNet models, else the label itself. */
export interface ClassLabel { id: string; name: string }

/** A version as the coordinator knows it (versions are immutable; only `state` changes, once). */
export interface ResolvedVersion {
  id: string
  name: string
  version: number
  state: ModelVersionState
  failureReason: string | null
  descriptor: ModelDescriptor
  /** Classes in output order after the label offset: output `labelOffset + i` is `classes[i]`. */
  classes: ClassLabel[]
}

/**
 * What routes need of the model repository. `find` takes a selector `NAME`, `NAME@VERSION` (digits) or
 * `NAME@LABEL`; without one, the deployment's default model. It throws AppError MODEL_NOT_FOUND (404)
 * for an unknown model, version or label, and does not check the state (callers decide what a version
 * that is not ready means for them).
 */
export interface ModelLookup {
  find(selector?: string): Promise<ResolvedVersion>
  list(): Promise<ModelView[]>
}
