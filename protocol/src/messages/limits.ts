// Shared bounds: the coordinator rejects anything outside them, the worker never sends it.
export const PROTOCOL_VERSION = 1
export const MAX_SLOTS_PER_WORKER = 16
export const TOP_K = 5
export const NUM_CLASSES = 1001 // MobileNet V2 logits: index 0 = background, 1..1000 = ImageNet classes
