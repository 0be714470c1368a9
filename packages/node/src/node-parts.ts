// The parts a node is assembled from — its event store, its verifier, its clock, its logger —
// and the one factory that makes the defaults: SQLite in the data folder, the worker pool
// with the fastest verifier that loads, the system clock, pino at the configured level.
// startNode takes any of them ready-made (a PostgreSQL store, a test clock, another verifier).
import { join, resolve } from 'node:path'
import pino, { type Logger } from 'pino'
import { type Clock, systemClock } from './clock.js'
import type { NodeConfig } from './config.js'
import type { EventStore } from './store/event-store.js'
import { SqliteStore } from './store/sqlite-store.js'
import type { Verifier } from './verify/event-verifier.js'
import { VerifyPool } from './verify/verify-pool.js'

export type NodeParts = {
  store: EventStore
  verifier: Verifier
  clock: Clock
  log: Logger
}

/** The parts not given, made from the configuration (the data folder must exist). */
export async function createNodeParts(
  config: NodeConfig,
  given: Partial<NodeParts> = {},
): Promise<NodeParts> {
  const log = given.log ?? pino({ level: config.logLevel })
  const clock = given.clock ?? systemClock
  const store =
    given.store ??
    new SqliteStore({
      path: join(resolve(config.dataDir), 'events.sqlite'),
      synchronous: config.storage.synchronous,
      readerThreads: config.storage.readerThreads,
      maxQueuedQueries: config.storage.maxQueuedQueries,
      queryTimeoutMs: config.storage.queryTimeoutMs,
    })
  try {
    const verifier =
      given.verifier ??
      (await VerifyPool.create({ threads: config.verify.threads, backend: config.verify.backend }))
    return { store, verifier, clock, log }
  } catch (error) {
    if (!given.store) await store.close()
    throw error
  }
}
