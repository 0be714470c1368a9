// A service is a plugin (Fastify's rule: if it could be a plugin, it should be): one object,
// exported by one folder under services/, that declares everything the node needs from it —
// its options (merged into the node's configuration under its name), the services it needs,
// its private kinds, the NIPs it adds to NIP-11, its billing traffic, the events it wants
// replicated between members, its HTTP routes (a Fastify plugin) — and `register(ctx)`, where
// it adds hooks to the relay engine's fixed list. services/index.ts is the one list of them;
// adding a service is adding a folder and a line there; the engine does not change.
import type { Nip98Auth } from '../http/nip98-auth.js'
import type { Filter, JsonValue, Manifest, ManifestCoordinator, NostrEvent } from '@hansa/protocol'
import type { Static, TObject } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { NodeConfig } from '../config.js'
import type { Refusal } from '../relay/refusal.js'
import type { ConnectionInfo } from '../relay/connection.js'
import type { EventStore, WriteOutcome } from '../store/event-store.js'

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
  /**
   * Decides on a stored event before fan-out sends it live to an open subscription of this
   * connection; a refusal closes that subscription with it (metering: a reader past her
   * disconnect threshold). Synchronous: fan-out is the hot path.
   */
  onDeliver: (event: NostrEvent, conn: ConnectionInfo) => Refusal | undefined
  /**
   * After the engine served a request: an event stored (OK true sent), or a REQ/COUNT
   * answered (EOSE or COUNT sent). Synchronous and after the answer, for metering.
   */
  onServed: (served: Served, conn: ConnectionInfo) => void
}

/** What onServed reports: the work done, with the UTF-8 bytes of the events it moved. */
export type Served =
  | { verb: 'EVENT'; event: NostrEvent; bytes: number }
  | { verb: 'REQ' | 'COUNT'; filters: readonly Filter[]; events: number; bytes: number }
  /** An event sent live to an open subscription (after its EOSE, or in the backlog that follows it). */
  | { verb: 'LIVE'; event: NostrEvent; bytes: number }

export type HookName = keyof Hooks
export const HOOK_NAMES: readonly HookName[] = [
  'onConnect',
  'onAuth',
  'onEvent',
  'onReq',
  'onClose',
  'onDeliver',
  'onServed',
]

export type ServiceContext<Options = Record<string, unknown>> = {
  /** The node's whole configuration. */
  config: NodeConfig
  /** This service's own options (the configuration's section under its name). */
  options: Options
  store: EventStore
  log: Logger
  metrics: Registry
  /** Unix seconds, from the node's clock. */
  now: () => number
  addHook<K extends HookName>(name: K, fn: Hooks[K]): void
  /** Work run on the maintenance timer (pruning and the like). */
  addMaintenanceTask(name: string, task: () => Promise<void>): void
  /** The node's key: what the node itself says (the order book's orders) is signed with it. */
  nodeKey: { pubkey: string; secretKey: Uint8Array }
  /**
   * Stores an event the node made itself and sends it to matching subscriptions, as if a
   * client had published it; no hooks run. Resolves once it is committed.
   */
  publish(event: NostrEvent): Promise<WriteOutcome['status']>
  /** NIP-98 for the service's routes: bound to the node's public URL, each token once. */
  httpAuth: Nip98Auth
  /** Run when the node stops, after the relay has answered everything (close databases). */
  addCleanup(cleanup: () => Promise<void> | void): void
  /** The federation, as the service needs it. */
  federation: {
    /** Whether the service is on now: standalone, or listed for this node by the manifest. */
    active(): boolean
    /** The verified manifest head, or null while standalone. */
    manifest(): Manifest | null
    /** This node's coordinator in the manifest, or null. */
    coordinator(): ManifestCoordinator | null
  }
  /**
   * Books income the service earned outside paid access (the order book's trade fees) in the
   * books, split into the coordinator's income and the dev tax. `amount` is in billing.unit.
   */
  bookIncome(
    income: ServiceIncome,
  ):
    | { income: bigint; devTax: bigint; unit: string }
    | Promise<{ income: bigint; devTax: bigint; unit: string }>
}

/** Income a service books: who paid, for what (a unique reference), how much. */
export type ServiceIncome = { peer: string; reference: string; amount: bigint }

/**
 * Which requests are a service's own, and whose access they use: what paid access (billing/
 * access.ts) prices or gates. Each returns undefined for a request that is not the service's.
 */
export type ServiceTraffic = {
  /** The event kinds that are the service's (NIP-11 `fees.publication` names them). */
  kinds: readonly number[]
  /** The pubkeys an event is for (the inbox: a gift wrap's recipients). */
  eventBeneficiaries(event: NostrEvent): readonly string[] | undefined
  /** The pubkeys whose data a REQ/COUNT may return (the inbox: its authenticated recipients). */
  queryBeneficiaries(
    filters: readonly Filter[],
    conn: ConnectionInfo,
  ): readonly string[] | undefined
}

/**
 * One service, declared once. `O` is its options schema (TypeBox; it must have `enabled`),
 * `S` what `register` returns — the running service's state, handed to its routes.
 */
export interface Service<O extends TObject = TObject, S = unknown> {
  readonly name: string
  /** Services that must be enabled too; a missing one stops the node at boot. */
  readonly dependencies?: readonly string[]
  /** Its options: `<name>.enabled` turns it on; the rest are its own (`<name>.*`). */
  readonly options: O
  /**
   * Kinds that only their recipients may read: an event of such a kind is served only to a
   * connection authenticated (NIP-42) as a pubkey named in its `p` tags.
   */
  readonly privateKinds?: readonly number[]
  /** NIPs it adds to NIP-11's supported_nips while it is on. */
  readonly nips?: readonly number[]
  /** Declared by a service that can be paid for (subscription or metered access). */
  readonly traffic?: ServiceTraffic
  /**
   * The events it wants shared between federation members (NIP-01 filters), for replication.
   * Empty or absent: nothing of its own is replicated.
   */
  readonly replication?: readonly Filter[]
  /**
   * Fields added to the service's entry in the node's signed terms, beside `access` (the
   * order book's `trading`: currencies, limits, fees).
   */
  terms?(config: NodeConfig): Record<string, JsonValue>
  /** Starts the service: adds its hooks, maintenance and cleanup; returns its state. */
  register(ctx: ServiceContext<Static<O>>): MaybePromise<S>
  /**
   * Its HTTP routes, a Fastify plugin registered beside the node's own (and listed in
   * /openapi.json), given the service's context and the state `register` returned.
   */
  routes?(
    app: FastifyInstance,
    service: { ctx: ServiceContext<Static<O>>; state: S },
  ): Promise<void>
}

/** Declares a service, keeping the types of its options and state. */
export const defineService = <O extends TObject, S>(service: Service<O, S>): Service<O, S> =>
  service
