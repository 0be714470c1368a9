// What every stage of the relay engine is given: the node's parts (configuration, store,
// verifier, clock, logger, metrics), the services' hooks and private kinds, and the few things
// the assembler (relay.ts) decides while the node runs — whether a connection is a member node
// replicating, the URL AUTH must name, whether the node still takes events. A stage reads the
// configuration at each use: a reload changes it in place.
import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import type { NodeConfig } from '../config.js'
import type { NodeMetrics } from '../metrics.js'
import type { HookName, Hooks, Served } from '../services/service.js'
import type { EventStore } from '../store/event-store.js'
import type { Verifier } from '../verify/event-verifier.js'
import type { Connection } from './connection.js'

/** The services' hooks, in the order they were added. */
export type HookLists = { [K in HookName]: Hooks[K][] }

export type StageContext = {
  readonly config: NodeConfig
  readonly store: EventStore
  readonly verifier: Pick<Verifier, 'check'>
  readonly log: Logger
  readonly metrics: NodeMetrics
  readonly clock: Clock
  readonly hooks: HookLists
  /** Kinds only their `p`-tagged recipients read (the inbox's gift wraps). */
  readonly privateKinds: ReadonlySet<number>
  /** Unix seconds, from the node's clock. */
  now(): number
  /** A member node replicating (replication/): no rate limit, every private event readable. */
  isMember(conn: Connection): boolean
  /** False once shutdown began: no new connection, no new event. */
  accepting(): boolean
  /** The URL clients must name in NIP-42 AUTH (known once the port is). */
  relayUrl(): string
  /**
   * Bytes that may wait to be sent to `conn` before it counts as not reading: its share of its
   * address's limits.maxSendBufferBytesPerIp, at most limits.maxSendBufferBytes.
   */
  sendBufferBound(conn: Connection): number
  /** Keeps a piece of work in flight until it settles (shutdown waits for it); logs a throw. */
  track(work: Promise<unknown>): void
  /** Tells the onServed hooks (metering) what was served; call only when there are any. */
  served(conn: Connection, served: Served): void
}
