// A Hansa node: loads its key, opens the store, starts the verifier pool, registers the
// services, and serves HTTP and WebSocket on one port. `close()` shuts down gracefully:
// stop accepting, finish in-flight writes (every acknowledged event is committed), close.
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { eventIdPreimage } from '@hansa/protocol'
import pino, { type Logger } from 'pino'
import type { FastifyInstance } from 'fastify'
import type { NodeConfig } from './config.js'
import { Federation } from './federation/federation-service.js'
import { ManifestSync } from './federation/manifest-sync.js'
import { createServiceGate } from './federation/service-gate.js'
import { NodeDiscovery } from './discovery/node-discovery.js'
import { discoveryRoutes } from './http/discovery-routes.js'
import { federationRoutes } from './http/federation-routes.js'
import { Billing } from './billing/billing.js'
import { billingRoutes } from './http/billing-routes.js'
import { createHttpServer } from './http/server.js'
import { webAppRoutes } from './http/web-app.js'
import { BillingHistory, billingSnapshot } from './billing/history.js'
import { billingHistoryRoutes } from './http/billing-history-routes.js'
import { relayInformation } from './http/relay-info.js'
import { createMetrics, type NodeMetrics } from './metrics.js'
import { type KeyPair, loadOrCreateKeyFile } from './node-key.js'
import { Relay } from './relay/relay.js'
import { inboxService } from './services/inbox/index.js'
import { orderbookService } from './services/orderbook/index.js'
import type { Service, ServiceContext } from './services/service.js'
import { SqliteStore } from './store/sqlite-store.js'
import { VerifyPool } from './verify/index.js'

export type HansaNode = {
  /** ws:// URL of the relay. */
  url: string
  /** http:// URL of the same port. */
  httpUrl: string
  key: Omit<KeyPair, 'secretKey'>
  config: NodeConfig
  relay: Relay
  store: SqliteStore
  metrics: NodeMetrics
  verifierBackend: string
  log: Logger
  /** The federation this node follows (or none: standalone), its proposals and membership. */
  federation: Federation
  /** Pulls the manifest from peers on a timer; `syncOnce()` runs a round now. */
  sync: ManifestSync
  /** Paid access: terms, subscriptions, SWAP accounts, the books (billing/). */
  billing: Billing
  /** Discovery v5 (discovery/), or null when `discovery.enabled` is false. */
  discovery: NodeDiscovery | null
  /** Runs the maintenance tasks now (pruning); the timer also runs them. */
  runMaintenance(): Promise<void>
  close(): Promise<void>
}

export type StartNodeOptions = {
  log?: Logger
  now?: () => number
  /** Extra services beyond the built-in ones the configuration turns on. */
  services?: Service[]
}

export async function startNode(
  config: NodeConfig,
  options: StartNodeOptions = {},
): Promise<HansaNode> {
  const log = options.log ?? pino({ level: config.logLevel })
  const now = options.now ?? (() => Math.floor(Date.now() / 1000))
  const dataDir = resolve(config.dataDir)
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const key = loadOrCreateKeyFile(join(dataDir, 'node.key'))
  if (key.created) log.info({ pubkey: key.pubkey }, 'created a new node key')

  const metrics = createMetrics()
  const store = new SqliteStore({
    path: join(dataDir, 'events.sqlite'),
    synchronous: config.storage.synchronous,
    readerThreads: config.storage.readerThreads,
  })
  const verifier = await VerifyPool.create({
    threads: config.verify.threads,
    backend: config.verify.backend,
  })
  const cleanups: Array<() => Promise<void>> = [() => verifier.close(), () => store.close()]
  let app: FastifyInstance | undefined
  try {
    const relayUrl = config.publicUrl || `ws://${urlHost(config.host)}:${config.port}`
    const relay = new Relay({ config, store, verifier, log, metrics, relayUrl, now })

    const services = [
      ...(config.inbox.enabled ? [inboxService] : []),
      ...(config.orderbook.enabled ? [orderbookService] : []),
      ...(options.services ?? []),
    ]
    const federation = new Federation({
      path: join(dataDir, 'federation.sqlite'),
      nodePubkey: key.pubkey,
      configuredServices: services.map((s) => s.name),
      inviteCode: config.federation.inviteCode,
      chainFile: config.federation.chainFile,
      log: log.child({ component: 'federation' }),
      now,
    })
    cleanups.push(async () => federation.close())
    if (federation.status() === 'not-member') log.warn(federation.statusMessage())
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
    // Services the manifest does not list for this node stay off (see federation/service-gate.ts).
    const gate = createServiceGate(
      relay,
      () => federation.activeServices(),
      () => federation.statusMessage(),
    )
    const maintenance: Array<{ name: string; task: () => Promise<void> }> = []
    const serviceRoutes: Array<(app: FastifyInstance) => Promise<void>> = []
    const names = new Set(services.map((s) => s.name))
    for (const service of services) {
      const missing = (service.dependencies ?? []).filter((d) => !names.has(d))
      if (missing.length > 0) {
        throw new Error(
          `service "${service.name}" needs ${missing.join(', ')}, which is not enabled`,
        )
      }
      const ctx: ServiceContext = gate.contextFor(service.name, {
        config,
        store,
        log: log.child({ service: service.name }),
        metrics: metrics.registry,
        now,
        addHook: (name, fn) => relay.addHook(name, fn),
        addPrivateKinds: (kinds) => relay.addPrivateKinds(kinds),
        addMaintenanceTask: (name, task) => maintenance.push({ name, task }),
        nodeKey: { pubkey: key.pubkey, secretKey: key.secretKey },
        publish: (event) => relay.publishOwn(event),
        addRoutes: (routes) => serviceRoutes.push(routes),
        addCleanup: (cleanup) => cleanups.push(async () => cleanup()),
        federation: {
          active: () => federation.activeServices().includes(service.name),
          manifest: () => federation.manifest(),
          coordinator: () => federation.entry()?.coordinator ?? null,
        },
        bookIncome: (income) => billing.bookIncome(service.name, income),
      })
      await service.register(ctx)
    }
    // Paid access: terms signed by the node key; its hooks run after the services' own.
    const billing = new Billing({
      config,
      key,
      dataDir,
      services,
      log: log.child({ component: 'billing' }),
      registry: metrics.registry,
      now,
    })
    cleanups.push(() => billing.close())
    billing.registerHooks((name, fn) => relay.addHook(name, fn))
    maintenance.push({ name: 'billing-flush', task: async () => billing.flush() })
    // The books over time, for the coordinator's plots (billing/history.ts).
    const history = new BillingHistory(dataDir, {
      snapshot: () => billingSnapshot(billing.report(), relay.connections.size),
      now,
    })
    cleanups.unshift(async () => history.close())
    maintenance.push({
      name: 'expiration',
      task: async () => void (await store.pruneExpired(now())),
    })
    maintenance.push({ name: 'rate-buckets', task: async () => relay.sweepIdleBudgets() })
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
          }),
        (http) =>
          billingRoutes(http, {
            billing,
            publicUrl: () => relay.relayUrl,
            now,
            verify: async (e) =>
              (await verifier.check({
                id: e.id,
                pubkey: e.pubkey,
                sig: e.sig,
                serialized: eventIdPreimage(e),
              })) === 'ok',
          }),
        (http) =>
          billingHistoryRoutes(http, { billing, history, publicUrl: () => relay.relayUrl, now }),
        ...serviceRoutes,
      ],
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
    sync.start()
    history.start()
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
      key: { pubkey: key.pubkey, address: key.address },
      config,
      relay,
      store,
      metrics,
      verifierBackend: verifier.backend,
      log,
      federation,
      sync,
      billing,
      discovery,
      runMaintenance,
      close() {
        closing ??= (async () => {
          clearInterval(timer)
          started.server.close() // stop accepting new connections
          await relay.shutdown() // finish in-flight events; every OK is sent
          await started.close()
          for (const cleanup of cleanups) await cleanup()
          log.info('node stopped')
        })()
        return closing
      },
    }
  } catch (error) {
    await app?.close()
    for (const cleanup of cleanups) await cleanup().catch(() => {})
    throw error
  }
}

const urlHost = (host: string) =>
  host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
