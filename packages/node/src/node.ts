// A Hansa node, assembled from the parts it is given (node-parts.ts makes the defaults): it
// loads its key, builds the relay on the store and the verifier, registers the services of
// services/index.ts that the configuration turns on, and serves HTTP and WebSocket on one
// port. It names no service: everything it needs from one is in the Service object.
// `close()` shuts down gracefully: stop accepting, finish in-flight writes (every
// acknowledged event is committed), close.
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { HansaError, eventIdPreimage } from '@hansa/protocol'
import type { Logger } from 'pino'
import type { FastifyInstance } from 'fastify'
import { Billing } from './billing/billing.js'
import { type Clock, clockFrom } from './clock.js'
import {
  ConfigError,
  type NodeConfig,
  type ReloadResult,
  applyReload,
  serviceOptions,
} from './config.js'
import { NodeDiscovery } from './discovery/node-discovery.js'
import { Federation } from './federation/federation-service.js'
import { ManifestSync } from './federation/manifest-sync.js'
import { createServiceGate } from './federation/service-gate.js'
import { SetupToken } from './federation/setup-token.js'
import { billingRoutes } from './http/billing-routes.js'
import { discoveryRoutes } from './http/discovery-routes.js'
import { federationRoutes } from './http/federation-routes.js'
import { registrySignatureRoutes } from './http/registry-signature-routes.js'
import { RegistrySignatures, knownManifests } from './federation/registry-signatures.js'
import { Nip98Auth } from './http/nip98-auth.js'
import { BillingHistory, billingSnapshot } from './billing/history.js'
import { billingHistoryRoutes } from './http/billing-history-routes.js'
import { webAppRoutes } from './http/web-app.js'
import { relayInformation } from './http/relay-info.js'
import { trustedProxiesIssue } from './http/client-address.js'
import { createHttpServer } from './http/server.js'
import { createMetrics, type NodeMetrics } from './metrics.js'
import { type NodeParts, createNodeParts } from './node-parts.js'
import { type KeyPair, loadOrCreateKeyFile } from './node-key.js'
import { ALWAYS_PRIVATE_KINDS } from './relay/private-kinds.js'
import { NegentropyServer } from './relay/negentropy.js'
import { exemptMemberNodes } from './replication/member-exemption.js'
import { Replicator } from './replication/replicator.js'
import { replicationRoutes } from './http/replication-routes.js'
import { Relay } from './relay/relay.js'
import { builtInServices } from './services/index.js'
import type { Service, ServiceContext } from './services/service.js'
import type { EventStore } from './store/event-store.js'
import { PostgresStore } from './store/postgres-store.js'
import { PgManifestStore } from './federation/pg-manifest-store.js'
import { BillingListener } from './billing/pg-listener.js'
import { registerStoreMetrics, storageHealth } from './store/open-store.js'
import { registerThreadCpuMetric } from './thread-cpu.js'
import type { Verifier } from './verify/event-verifier.js'

export type HansaNode = {
  /** ws:// URL of the relay. */
  url: string
  /** http:// URL of the same port. */
  httpUrl: string
  /** The TCP port it listens on (the public URL may name a proxy's). */
  port: number
  key: Omit<KeyPair, 'secretKey'>
  config: NodeConfig
  relay: Relay
  store: EventStore
  verifier: Verifier
  clock: Clock
  metrics: NodeMetrics
  verifierBackend: string
  log: Logger
  /** The services running (enabled by the configuration), in registration order. */
  services: readonly Service[]
  /** The federation this node follows (or none: standalone), its proposals and membership. */
  federation: Federation
  /** Pulls the manifest from peers on a timer; `syncOnce()` runs a round now. */
  sync: ManifestSync
  /** Paid access: terms, subscriptions, SWAP accounts, the books (billing/). */
  billing: Billing
  /** Discovery v5 (discovery/), or null when `discovery.enabled` is false. */
  discovery: NodeDiscovery | null
  /** Replication with the other member nodes (replication/): peers, push, catch-up, status. */
  replication: Replicator
  /**
   * The one-time token that lets the setup ceremony found a federation on this standalone node
   * (printed at start), or null once spent or when the node follows or is pinned to one.
   */
  setupToken(): string | null
  /** Runs the maintenance tasks now (pruning); the timer also runs them. */
  runMaintenance(): Promise<void>
  /**
   * Takes a newly resolved configuration (SIGHUP): options that need no restart apply at
   * once — every registered service's alike, built in or passed in `services` — and those
   * that need one are listed. Resolve `next` with the same services (resolveConfig).
   */
  reload(next: NodeConfig): ReloadResult
  close(): Promise<void>
}

export type StartNodeOptions = Partial<NodeParts> & {
  /** Unix seconds; the older form of `clock` (milliseconds then follow the system clock). */
  now?: () => number
  /**
   * Services beyond the built-in ones (their options are read from the configuration under
   * their names, or take their defaults); each runs when its `enabled` option is true.
   */
  services?: Service[]
}

/** A service that needs another one the configuration does not turn on. */
export class ServiceDependencyError extends HansaError {
  override name = 'ServiceDependencyError'
  constructor(service: string, missing: readonly string[]) {
    super(
      'HANSA_SERVICE_DEPENDENCY',
      `service "${service}" needs ${missing.join(', ')}, which is not enabled`,
      {
        details: `Turn it on (${missing.map((m) => `${m}.enabled = true`).join(', ')}) or turn ${service} off.`,
      },
    )
  }
}

/** The services the configuration turns on, each with its own options. */
function enabledServices(config: NodeConfig, extra: readonly Service[]) {
  const out: Array<{ service: Service; options: Record<string, unknown> }> = []
  for (const service of [...builtInServices, ...extra]) {
    const options = serviceOptions(config, service)
    if (options === undefined) {
      throw new ConfigError(`the options of service "${service.name}" do not match its schema`)
    }
    // A section the configuration was resolved without (its defaults) joins it, so the
    // service reads the running configuration and a reload reaches it like any other.
    const sections = config as Record<string, unknown>
    if (!Object.hasOwn(sections, service.name)) sections[service.name] = options
    if (options.enabled === true) out.push({ service, options })
  }
  const names = new Set(out.map((s) => s.service.name))
  for (const { service } of out) {
    const missing = (service.dependencies ?? []).filter((d) => !names.has(d))
    if (missing.length > 0) throw new ServiceDependencyError(service.name, missing)
  }
  return out
}

export async function startNode(
  config: NodeConfig,
  options: StartNodeOptions = {},
): Promise<HansaNode> {
  const dataDir = resolve(config.dataDir)
  const proxiesIssue = trustedProxiesIssue(config.trustedProxies)
  if (proxiesIssue !== undefined) throw new ConfigError(proxiesIssue)
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const parts = await createNodeParts(config, {
    ...options,
    ...(options.clock === undefined && options.now ? { clock: clockFrom(options.now) } : {}),
  })
  const { store, verifier, clock, log } = parts
  const now = () => clock.now()
  const cleanups: Array<() => Promise<void>> = [() => verifier.close()]
  // The store closes last: billing, the order book and the federation write to its database
  // (PostgreSQL) until they are closed.
  const closeStore = () => store.close()
  let app: FastifyInstance | undefined
  try {
    const key = loadOrCreateKeyFile(join(dataDir, 'node.key'))
    if (key.created) log.info({ pubkey: key.pubkey }, 'created a new node key')
    const metrics = createMetrics()
    registerStoreMetrics(store, metrics.registry)
    registerThreadCpuMetric(metrics.registry)
    if (config.storage.backend === 'postgres') {
      // Shared through PostgreSQL: events, live fan-out, billing, the order book, the federation.
      log.info(
        { dataDir },
        "events, billing, the order book and the federation's chain are in PostgreSQL, shared by this node's processes; the node key, the guardians' registry signatures, the billing history and the evm rail's cash-outs stay in the data folder (docs/scaling.md)",
      )
    }
    const relayUrl = config.publicUrl || `ws://${urlHost(config.host)}:${config.port}`
    const relay = new Relay({ config, store, verifier, log, metrics, relayUrl, clock })
    relay.addPrivateKinds(ALWAYS_PRIVATE_KINDS)
    // NIP-77: any client (a member node's replication among them) reconciles with this node.
    const negentropy = new NegentropyServer({
      config,
      store,
      log: log.child({ component: 'negentropy' }),
      registry: metrics.registry,
      now,
      nowMs: () => clock.nowMs(),
      requestRefusal: (filters, conn) => relay.requestRefusal(filters, conn, 'REQ'),
      readAccess: (conn) => relay.readAccess(conn),
    })
    relay.negentropy = negentropy
    relay.addHook('onClose', (conn) => negentropy.onClose(conn))
    if (config.publicUrl === '') {
      log.warn(
        'no publicUrl configured: NIP-98 (HTTP auth) is accepted only from this machine, and NIP-42 names the listening address; set publicUrl to the URL clients use',
      )
    }
    // NIP-98 for every route set: bound to the public URL, each token once (http/nip98-auth.ts).
    const nip98 = new Nip98Auth({
      publicUrl: config.publicUrl,
      listenUrl: () => relay.relayUrl,
      now,
      verify: async (e) =>
        (await verifier.check({
          id: e.id,
          pubkey: e.pubkey,
          sig: e.sig,
          serialized: eventIdPreimage(e),
        })) === 'ok',
    })

    const enabled = enabledServices(config, options.services ?? [])
    const services = enabled.map((s) => s.service)
    // On PostgreSQL the chain and proposals are the database's, shared by the node's processes.
    const fedStore =
      store instanceof PostgresStore
        ? await PgManifestStore.open(store.pool, log.child({ component: 'federation' }))
        : undefined
    const federation = new Federation({
      ...(fedStore ? { store: fedStore } : {}),
      path: join(dataDir, 'federation.sqlite'),
      nodePubkey: key.pubkey,
      configuredServices: services.map((s) => s.name),
      inviteCode: config.federation.inviteCode,
      chainFile: config.federation.chainFile,
      log: log.child({ component: 'federation' }),
      now,
    })
    cleanups.push(async () => federation.close())
    if (fedStore && store instanceof PostgresStore) {
      // What another process adopts or proposes reaches this one by NOTIFY.
      const reload = () =>
        fedStore
          .reload()
          .then(() => federation.adoptStoredChain(fedStore.chain()))
          .catch((err) => log.error({ err }, 'federation: reading the shared chain failed'))
      const fedListener = await BillingListener.start(config.storage.url, {
        onFederation: () => void reload(),
        onReconnect: () => void reload(),
      })
      cleanups.push(async () => {
        await fedListener.stop()
        await fedStore.flush()
      })
    }
    // guardians' FederationRegistry signatures, gathered for the registry the billing names
    const registrySignatures = new RegistrySignatures({
      path: join(dataDir, 'federation.sqlite'),
      registry: () => config.billing.evm.registry,
      chainId: () => config.billing.chainId,
      lookup: knownManifests(federation),
      now,
    })
    cleanups.push(async () => registrySignatures.close())
    if (federation.status() === 'not-member') log.warn(federation.statusMessage())
    const setupToken = federation.needsAuthorisation()
      ? new SetupToken(config.federation.setupToken)
      : null
    const sync = new ManifestSync({
      federation,
      nodePubkey: key.pubkey,
      selfUrls: () => [relay.relayUrl],
      configuredPeers: () => config.federation.peers,
      intervalSeconds: config.federation.syncIntervalSeconds,
      log: log.child({ component: 'federation-sync' }),
      now,
    })
    cleanups.unshift(() => sync.stop())
    // Replication (replication/): peers from the manifest, live push, NIP-77 catch-up.
    const catchUpConnection = {
      id: 0,
      ip: 'replication',
      challenge: '',
      authed: new Set([key.pubkey]),
    }
    const replication = new Replicator({
      config,
      nodeKey: { pubkey: key.pubkey, secretKey: key.secretKey },
      // What replication fetched or received live enters as from a member node (this node's
      // own key): checked like any event, exempt from paid access, and never sent on to member
      // nodes (fan-out's echo rule, replicator.ts).
      ingest: async (events) =>
        (await relay.ingestBatch(events, catchUpConnection)).map((o) => ({
          stored: o.type === 'stored',
          refused: o.type === 'refused' || o.type === 'malformed',
        })),
      store,
      services: services
        .filter((s) => (s.replication ?? []).length > 0)
        .map((s) => ({ name: s.name, filters: s.replication ?? [] })),
      manifest: () => federation.manifest(),
      log: log.child({ component: 'replication' }),
      registry: metrics.registry,
      now,
    })
    cleanups.unshift(async () => replication.stop())
    relay.replicationPeer = (conn) => replication.isMemberConnection(conn)
    // Services the manifest does not list for this node stay off (see federation/service-gate.ts).
    const gate = createServiceGate(
      relay,
      () => federation.activeServices(),
      () => federation.statusMessage(),
    )
    // Paid access: terms signed by the node key, built from the services' declarations; its
    // hooks run after the services' own.
    const billing = new Billing({
      config,
      key,
      dataDir,
      services,
      log: log.child({ component: 'billing' }),
      registry: metrics.registry,
      now,
      ...(store instanceof PostgresStore
        ? { postgres: { pool: store.pool, url: config.storage.url } }
        : {}),
    })
    cleanups.push(() => billing.close())
    await billing.start()
    const maintenance: Array<{ name: string; task: () => Promise<void> }> = []
    const serviceRoutes: Array<(app: FastifyInstance) => Promise<void>> = []
    for (const { service, options: own } of enabled) {
      const kinds = service.privateKinds ?? []
      gate.ownKinds(service.name, kinds)
      relay.addPrivateKinds(kinds)
      const ctx: ServiceContext = gate.contextFor(service.name, {
        config,
        options: own,
        store,
        log: log.child({ service: service.name }),
        metrics: metrics.registry,
        now,
        addHook: (name, fn) => relay.addHook(name, fn),
        addMaintenanceTask: (name, task) => maintenance.push({ name, task }),
        nodeKey: { pubkey: key.pubkey, secretKey: key.secretKey },
        publish: (event) => relay.publishOwn(event),
        httpAuth: nip98,
        addCleanup: (cleanup) => cleanups.push(async () => cleanup()),
        federation: {
          active: () => federation.activeServices().includes(service.name),
          manifest: () => federation.manifest(),
          coordinator: () => federation.entry()?.coordinator ?? null,
        },
        bookIncome: (income) => billing.bookIncome(service.name, income),
      })
      const state = await service.register(ctx)
      const routes = service.routes?.bind(service)
      if (routes) {
        // A Fastify plugin of its own: the service's error handler and parsers stay in it.
        serviceRoutes.push(async (http) => {
          await http.register(async (scope) => routes(scope, { ctx, state }))
        })
      }
    }
    // Member nodes replicating are outside paid access (replication/member-exemption.ts).
    billing.registerHooks((name, fn) =>
      relay.addHook(
        name,
        exemptMemberNodes(name, fn, (c) => replication.isMemberConnection(c)),
      ),
    )
    relay.addHook('onServed', (served, conn) => replication.onServed(served.verb, conn))
    maintenance.push({ name: 'billing-flush', task: () => billing.flush() })
    // The books over time, for the coordinator's plots (billing/history.ts).
    const history = new BillingHistory(dataDir, {
      snapshot: () => {
        const report = billing.reportNow()
        return report ? billingSnapshot(report, relay.connections.size) : undefined
      },
      now,
      sampleSeconds: config.billing.history.sampleSeconds,
      retentionDays: config.billing.history.retentionDays,
    })
    cleanups.unshift(async () => history.close())
    maintenance.push({
      name: 'expiration',
      task: async () => void (await store.pruneExpired(now())),
    })
    maintenance.push({ name: 'rate-buckets', task: async () => relay.sweepIdleBudgets() })
    maintenance.push({ name: 'nip98-replay', task: async () => nip98.sweep() })
    let discovery: NodeDiscovery | null = null
    const nodeRecord = () => ({
      federationId: federation.federationId(),
      services: federation.activeServices(),
      wsUrl: relay.relayUrl,
    })
    const runMaintenance = async () => {
      for (const m of maintenance) {
        try {
          await m.task()
        } catch (err) {
          log.error({ err, task: m.name }, 'maintenance task failed')
        }
      }
    }
    await runMaintenance()
    const timer = setInterval(runMaintenance, config.maintenance.intervalSeconds * 1000)
    timer.unref()

    app = await createHttpServer({
      relay,
      log,
      metrics: metrics.registry,
      maxMessageBytes: config.limits.maxMessageBytes,
      relayInfo: () =>
        relayInformation(
          config,
          key.pubkey,
          {
            federationId: federation.federationId(),
            manifestVersion: federation.version(),
            coordinator: federation.entry()?.coordinator.pubkey ?? null,
            services: federation.activeServices(),
          },
          {
            ...billing.nip11(),
            paymentsUrl: `${relay.relayUrl.replace(/^ws/, 'http')}/terms`,
          },
          activeNips(services, federation.activeServices()),
        ),
      routes: [
        (http) => webAppRoutes(http, { log: log.child({ component: 'web-app' }) }),
        (http) =>
          discoveryRoutes(http, {
            discovery: () => discovery,
            secretKey: key.secretKey,
            pubkey: key.pubkey,
            publicUrl: () => relay.relayUrl,
            listedUrls: () => federation.entry()?.node.urls ?? [],
            record: nodeRecord,
            isMember: (pubkey) =>
              (federation.manifest()?.coordinators ?? []).some((c) =>
                c.nodes.some((n) => n.pubkey === pubkey),
              ),
            now,
          }),
        (http) =>
          federationRoutes(http, {
            federation,
            sync,
            nodePubkey: key.pubkey,
            publicUrl: () => relay.relayUrl,
            configuredServices: services.map((s) => s.name),
            now,
            nip98,
            adminPubkeys: () => config.federation.adminPubkeys,
            setupToken,
            verifySignatures: (checks) =>
              Promise.all(
                checks.map(async (c) => {
                  const r = await verifier.check({
                    id: c.hash,
                    pubkey: c.pubkey,
                    sig: c.sig,
                    serialized: c.preimage,
                  })
                  return r === 'ok'
                }),
              ),
          }),
        (http) => registrySignatureRoutes(http, { signatures: registrySignatures, nip98 }),
        (http) => billingRoutes(http, { billing, nip98 }),
        (http) => billingHistoryRoutes(http, { billing, history, nip98 }),
        (http) => replicationRoutes(http, { replication }),
        ...serviceRoutes,
      ],
      health: async () => {
        const storage = await storageHealth(store)
        if (!storage.ok) log.warn({ err: storage.cause }, 'storage health check failed')
        const { cause: _cause, ...shown } = storage
        return { ok: storage.ok, storage: shown }
      },
      metricsToken: config.metricsToken,
      trustedProxies: config.trustedProxies,
      beforeMetrics: async () => {
        metrics.storedBytes.set(await store.storedBytes())
        metrics.storedEvents.set(await store.eventCount())
      },
    })
    await app.listen({ host: config.host, port: config.port })
    const address = app.server.address()
    const port = typeof address === 'object' && address ? address.port : config.port
    const url = config.publicUrl || `ws://${urlHost(config.host)}:${port}`
    relay.relayUrl = url // a port of 0 is only known now; NIP-42 checks against this URL
    const httpUrl = url.replace(/^ws/, 'http')
    log.info({ url, pubkey: key.pubkey, verifier: verifier.backend, dataDir }, 'node listening')
    if (setupToken?.current()) {
      log.info(
        "standalone: to found or join a federation at the setup ceremony, give the drafting guardian this node's one-time setup token (printed at start)",
      )
    }
    sync.start()
    history.start()
    replication.refresh()
    federation.onChange(() => replication.refresh())
    // Discovery v5 announces the URL, so it starts once the port is known.
    if (config.discovery.enabled) {
      const udpPort =
        config.discovery.udpPort === 0 && config.port !== 0 ? port : config.discovery.udpPort
      discovery = await NodeDiscovery.start({
        secretKey: key.secretKey,
        bindHost: config.host,
        udpPort,
        fallbackToFreePort: config.discovery.udpPort === 0,
        announceIp: config.discovery.announceIp,
        bootnodes: config.discovery.bootnodes,
        record: nodeRecord,
        peerUrls: () =>
          (federation.manifest()?.coordinators ?? []).flatMap((c) =>
            c.nodes.filter((n) => n.pubkey !== key.pubkey).flatMap((n) => n.urls.slice(0, 1)),
          ),
        lookupIntervalSeconds: config.discovery.lookupIntervalSeconds,
        log: log.child({ component: 'discovery' }),
      })
      const started = discovery
      cleanups.unshift(() => started.stop())
      federation.onChange(() => {
        started.update()
        void started.refresh()
      })
    }

    const started = app
    let closing: Promise<void> | undefined
    return {
      url,
      httpUrl,
      port,
      key: { pubkey: key.pubkey, address: key.address },
      config,
      relay,
      store,
      verifier,
      clock,
      metrics,
      verifierBackend: verifier.backend,
      log,
      services,
      federation,
      sync,
      billing,
      discovery,
      replication,
      setupToken: () => (federation.needsAuthorisation() ? (setupToken?.current() ?? null) : null),
      runMaintenance,
      reload: (next) => applyReload(config, next, options.services),
      close() {
        closing ??= (async () => {
          clearInterval(timer)
          started.server.close() // stop accepting new connections
          await relay.shutdown() // finish in-flight events; every OK is sent
          await started.close()
          for (const cleanup of [...cleanups, closeStore]) await cleanup()
          log.info('node stopped')
        })()
        return closing
      },
    }
  } catch (error) {
    await app?.close()
    for (const cleanup of [...cleanups, closeStore]) await cleanup().catch(() => {})
    throw error
  }
}

/** The NIPs the services that are on now add to NIP-11. */
const activeNips = (services: readonly Service[], active: readonly string[]): number[] =>
  services.filter((s) => active.includes(s.name)).flatMap((s) => s.nips ?? [])

const urlHost = (host: string) =>
  host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
