// Opens the event store the configuration names (storage.backend): SQLite in the data folder,
// or PostgreSQL at storage.url; registers PostgreSQL's pool and query metrics, and says how
// healthy the store is (/health).
import { join } from 'node:path'
import { Gauge, Histogram, type Registry } from 'prom-client'
import { ConfigError, type NodeConfig } from '../config.js'
import type { EventStore } from './event-store.js'
import { PostgresStore } from './postgres-store.js'
import { SqliteStore } from './sqlite-store.js'

export type StorageHealth = {
  backend: 'sqlite' | 'postgres'
  ok: boolean
  /** Round trip of a trivial query, in milliseconds (PostgreSQL). */
  latencyMs?: number
  pool?: { total: number; idle: number; waiting: number }
  live?: { connected: boolean; received: number; fetched: number; dropped: number }
  error?: string
  /** Not sent: for the log. */
  cause?: unknown
}

/** The store the configuration names (storage.backend). */
export async function openEventStore(config: NodeConfig, dataDir: string): Promise<EventStore> {
  if (config.storage.backend === 'sqlite') {
    return new SqliteStore({
      path: join(dataDir, 'events.sqlite'),
      synchronous: config.storage.synchronous,
      readerThreads: config.storage.readerThreads,
      maxQueuedQueries: config.storage.maxQueuedQueries,
      queryTimeoutMs: config.storage.queryTimeoutMs,
    })
  }
  if (!config.storage.url) {
    throw new ConfigError(
      'storage.backend is postgres but storage.url is empty',
      'set storage.url (or HANSA_STORAGE_URL) to postgres://user:password@host:port/database',
    )
  }
  return PostgresStore.open({
    url: config.storage.url,
    ...(config.storage.readUrl ? { readUrl: config.storage.readUrl } : {}),
    poolSize: config.storage.poolSize,
    statementTimeoutMs: config.storage.statementTimeoutMs,
  })
}

/** PostgreSQL's pool, query-time and live-feed metrics in the node's registry (none for SQLite). */
export function registerStoreMetrics(store: EventStore, registry: Registry): void {
  if (!(store instanceof PostgresStore)) return
  const queryTime = new Histogram({
    name: 'hansa_pg_query_duration_seconds',
    help: 'Time of one PostgreSQL statement, by operation',
    labelNames: ['op'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [registry],
  })
  store.observeQueries((op, seconds) => queryTime.observe({ op }, seconds))
  // main: writes and the rest of the node's state (and reads without a replica); replica:
  // storage.readUrl's; fixed-plan: the one-value reads whose plans are kept (postgres-query.ts).
  const pools = [
    ['main', store.pool],
    ...(store.readPool !== store.pool ? [['replica', store.readPool] as const] : []),
    ['fixed-plan', store.fixedPlanReads],
  ] as const
  new Gauge({
    name: 'hansa_pg_pool_connections',
    help: 'PostgreSQL pool connections, by state (total, idle, waiting: requests queued for one; for fixed-plan, whose connections are pipelined, reads sent and not yet answered) and pool (main, replica, fixed-plan)',
    labelNames: ['state', 'pool'] as const,
    registers: [registry],
    collect() {
      for (const [name, pool] of pools) {
        this.set({ state: 'total', pool: name }, pool.totalCount)
        this.set({ state: 'idle', pool: name }, pool.idleCount)
        this.set({ state: 'waiting', pool: name }, pool.waitingCount)
      }
    },
  })
  new Gauge({
    name: 'hansa_pg_live_notifications_total',
    help: 'Events from other processes received through LISTEN/NOTIFY, by how (received, fetched: read back past the payload limit, dropped: queue full)',
    labelNames: ['how'] as const,
    registers: [registry],
    collect() {
      const s = store.liveStatus()
      if (!s) return
      this.set({ how: 'received' }, s.received)
      this.set({ how: 'fetched' }, s.fetched)
      this.set({ how: 'dropped' }, s.dropped)
    },
  })
}

/** What /health says about the store. */
export async function storageHealth(store: EventStore): Promise<StorageHealth> {
  if (!(store instanceof PostgresStore)) return { backend: 'sqlite', ok: true }
  const pool = store.pool
  const poolState = { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }
  const live = store.liveStatus() ?? undefined
  const start = process.hrtime.bigint()
  try {
    await pool.query('SELECT 1')
    return {
      backend: 'postgres',
      ok: live?.connected !== false,
      latencyMs: Number(process.hrtime.bigint() - start) / 1e6,
      pool: poolState,
      ...(live ? { live } : {}),
    }
  } catch (error) {
    return {
      backend: 'postgres',
      ok: false,
      pool: poolState,
      ...(live ? { live } : {}),
      // /health is public: the cause goes to the log, not to the caller.
      error: 'the database did not answer',
      cause: error,
    }
  }
}
