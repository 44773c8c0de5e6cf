import { Type, type Static } from 'typebox'

/** Coordinator → worker: I am shutting down; finish what you hold, then reconnect (with backoff) to my successor. */
export const CoordinatorDraining = Type.Object({ type: Type.Literal('coordinator.draining') })
export type CoordinatorDraining = Static<typeof CoordinatorDraining>

/**
 * Coordinator → worker, every heartbeatMs. Protocol pings prove the worker alive to the coordinator; a
 * page cannot see them, so this proves the coordinator alive to the page: after a network partition the
 * coordinator has dropped the connection, and a page that hears nothing reconnects instead of idling.
 */
export const CoordinatorHeartbeat = Type.Object({ type: Type.Literal('coordinator.heartbeat') })
export type CoordinatorHeartbeat = Static<typeof CoordinatorHeartbeat>
