// @hansa/node: the Hansa node daemon.
export {
  startNode,
  type HansaNode,
  type StartNodeOptions,
  ServiceDependencyError,
} from './node.js'
export { createNodeParts, type NodeParts } from './node-parts.js'
export { WorkerPool, type WorkerPoolOptions, serveRequests } from './worker-pool.js'
export { parseStatSeconds, threadCpuSeconds } from './thread-cpu.js'
export { type Clock, systemClock, ManualClock, clockFrom } from './clock.js'
export type { Verifier } from './verify/event-verifier.js'
export { option, lit, optionSpecs, type OptionDocs } from './config/option.js'
export {
  OPTIONS,
  type OptionSpec,
  type NodeConfig,
  NodeConfigSchema,
  configSchema,
  serviceOptions,
  type ConfigSources,
  ConfigError,
  resolveConfig,
  applyReload,
  type ReloadResult,
  readConfigFile,
  configurationMarkdown,
  envName,
} from './config.js'
export { createKeyFile, readKeyFile, loadOrCreateKeyFile, type KeyPair } from './node-key.js'
export { builtInServices } from './services/index.js'
export type {
  Service,
  ServiceContext,
  ServiceTraffic,
  ServiceIncome,
  Served,
  Hooks,
  HookName,
} from './services/service.js'
export { HOOK_NAMES, defineService } from './services/service.js'
export type {
  EventStore,
  WriteOutcome,
  StoredEventInput,
  QueryOptions,
  QueryResult,
  ReadAccess,
  SyncItems,
  SyncItemsOptions,
} from './store/event-store.js'
export { SqliteStore } from './store/sqlite-store.js'
export { PostgresStore, type PostgresStoreOptions } from './store/postgres-store.js'
export { SCHEMA_VERSION } from './store/postgres-schema.js'
export {
  type EventSource,
  type ImportReport,
  type MigrateReport,
  exportEvents,
  importEvents,
  migrateEvents,
  openConfiguredStore,
  openSqlite,
  postgresSource,
  sqliteSource,
  storageStats,
} from './store/storage-transfer.js'
export { type Refusal, type RefusalPrefix, refuse, refusalText } from './relay/refusal.js'
export { Relay } from './relay/relay.js'
export { NegentropyServer } from './relay/negentropy.js'
export { PeerSocket, PeerError, type ReconcileResult } from './replication/peer-socket.js'
export { Replicator, type PeerStatus } from './replication/replicator.js'
export { replicationPeers, sharedFilters, memberNodeKeys } from './replication/peers.js'
export { NegentropyResponder } from './relay/negentropy-responder.js'
export { PrefixSumStorage } from './relay/negentropy-storage.js'
export {
  nip77,
  type Nip77,
  type Negentropy,
  type NegentropyStorageVector,
  type NegentropySync,
} from './relay/nip77.js'
export { inboxService, GIFT_WRAP_KIND, INBOX_RELAYS_KIND } from './services/inbox/index.js'
export {
  orderbookService,
  OrderBook,
  tradingTermsFromConfig,
  type MakeRequest,
  type TakeRequest,
  type OrderView,
  type OrderRecord,
  type Robot,
  type Trade,
} from './services/orderbook/index.js'
export { OrderDb } from './services/orderbook/order-db.js'
export {
  Federation,
  type FederationStatusName,
  type ProposalView,
  type OfferResult,
  type ForkReport,
  MAX_PENDING_PROPOSALS,
} from './federation/federation-service.js'
export { ManifestSync, type SyncReport, type PeerReport } from './federation/manifest-sync.js'
export { FederationRequestError, httpStatusOf } from './federation/errors.js'
export type { FederationStatus } from './federation/schemas.js'
export { SOFTWARE_VERSION } from './http/relay-info.js'
export { NodeDiscovery, type DiscoveryStatus } from './discovery/node-discovery.js'
export { readPeer, type DiscoveredPeer } from './discovery/enr.js'
export { Billing } from './billing/billing.js'
export { BillingRequestError } from './billing/errors.js'
export { LedgerRail, type SettlementRail } from './billing/rails/index.js'
export type { PeerAccount } from './billing/swap-accounts.js'
export type { SubscriptionView, Quote } from './billing/subscriptions.js'
export type { BookTotals, BookedPayment } from './billing/books.js'
export { type StateMigrateReport, migrateNodeState } from './store/state-migrate.js'
