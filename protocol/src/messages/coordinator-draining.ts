import { Type, type Static } from 'typebox'

/** Coordinator → worker: I am shutting down; finish what you hold, then reconnect (with backoff) to my successor. */
export const CoordinatorDraining = Type.Object({ type: Type.Literal('coordinator.draining') })
export type CoordinatorDraining = Static<typeof CoordinatorDraining>
