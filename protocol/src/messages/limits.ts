// Shared bounds: the coordinator rejects anything outside them, the worker never sends it.
export const PROTOCOL_VERSION = 1
export const MAX_SLOTS_PER_WORKER = 16
export const TOP_K = 5
/** Outputs a served model may have (its classes plus any leading non-classes such as MobileNet's background). */
export const MAX_MODEL_OUTPUTS = 100_000
