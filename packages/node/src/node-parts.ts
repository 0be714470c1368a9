// The parts a node is assembled from — its event store, its verifier, its clock, its logger —
// and the one factory that makes the defaults: the store storage.backend names (SQLite in the
// data folder, or PostgreSQL), the worker pool
// with the fastest verifier that loads, the system clock, pino at the configured level.
// startNode takes any of them ready-made (a PostgreSQL store, a test clock, another verifier).
import { resolve } from 'node:path'
import pino, { type Logger } from 'pino'
import { type Clock, systemClock } from './clock.js'
import type { NodeConfig } from './config.js'
import type { EventStore } from './store/event-store.js'
import { openEventStore } from './store/open-store.js'
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
  const store = given.store ?? (await openEventStore(config, resolve(config.dataDir)))
  try {
    const verifier =
      given.verifier ??
      (await VerifyPool.create({
        threads: config.verify.threads,
        backend: config.verify.backend,
        inlineBatch: config.verify.inlineBatch,
      }))
    return { store, verifier, clock, log }
  } catch (error) {
    if (!given.store) await store.close()
    throw error
  }
}
