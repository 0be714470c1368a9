// A service is a plugin (Fastify's rule: if it could be a plugin, it should be): a name,
// the services it needs, and `register(ctx)`, where it adds hooks to the relay engine's
// fixed list. Adding a service is adding a folder; the engine does not change.
import type { Filter, NostrEvent } from '@hansa/protocol'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { NodeConfig } from '../config.js'
import type { Refusal } from '../relay/refusal.js'
import type { ConnectionInfo } from '../relay/connection.js'
import type { EventStore } from '../store/event-store.js'

type MaybePromise<T> = T | Promise<T>

export type Hooks = {
  onConnect: (conn: ConnectionInfo) => MaybePromise<void>
  onAuth: (conn: ConnectionInfo, pubkey: string) => MaybePromise<void>
  /** Decides on a verified event before it is stored; return a refusal to reject it. */
  onEvent: (event: NostrEvent, conn: ConnectionInfo) => MaybePromise<Refusal | undefined>
  /** Decides on a REQ or COUNT before the store is queried. */
  onReq: (
    filters: readonly Filter[],
    conn: ConnectionInfo,
    verb: 'REQ' | 'COUNT',
  ) => MaybePromise<Refusal | undefined>
  onClose: (conn: ConnectionInfo) => MaybePromise<void>
}

export type HookName = keyof Hooks
export const HOOK_NAMES: readonly HookName[] = [
  'onConnect',
  'onAuth',
  'onEvent',
  'onReq',
  'onClose',
]

export type ServiceContext = {
  config: NodeConfig
  store: EventStore
  log: Logger
  metrics: Registry
  /** Unix seconds, from the node's clock. */
  now: () => number
  addHook<K extends HookName>(name: K, fn: Hooks[K]): void
  /**
   * Declares kinds that only their recipients may read: an event of such a kind is served
   * only to a connection authenticated (NIP-42) as a pubkey named in its `p` tags.
   */
  addPrivateKinds(kinds: readonly number[]): void
  /** Work run on the maintenance timer (pruning and the like). */
  addMaintenanceTask(name: string, task: () => Promise<void>): void
}

export interface Service {
  readonly name: string
  readonly dependencies?: readonly string[]
  register(ctx: ServiceContext): MaybePromise<void>
}
