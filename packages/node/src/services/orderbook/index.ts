// The order book: a RoboSats coordinator's book as NIP-69 events (kind 38383). Makers do not
// publish orders themselves: they submit them to the coordinator that will run them
// (POST /orderbook/orders, NIP-98), which checks them against its terms and publishes them
// signed by the node key — a key the manifest lists for that coordinator, so clients can tell
// a member's orders from anyone else's. docs/orderbook.md describes the whole flow.
//
// On the relay, the service refuses kind-38383 events except copies of orders published by
// another node the manifest lists with the order book (coordinators keep their books in step
// by passing their events on); it serves every order to anyone. While the service is off (the
// manifest does not list it for this node) its hooks and routes stand down: clients only
// trust orders signed by a member's node, so a node that is off cannot add to the joint book.
import { join, resolve } from 'node:path'
import { ORDER_KIND, parseOrder } from '@hansa/protocol'
import type { Static } from '@sinclair/typebox'
import { Counter, Gauge } from 'prom-client'
import { refuse } from '../../relay/refusal.js'
import { type ServiceContext, defineService } from '../service.js'
import { PostgresStore } from '../../store/postgres-store.js'
import { OrderDb, type OrderStore } from './order-db.js'
import { PgOrderDb } from './pg-order-db.js'
import { OrderBook, termsEntry } from './order-book.js'
import { orderbookOptions } from './options.js'
import { orderbookRoutes } from './routes.js'

export { OrderBook, tradingTermsFromConfig } from './order-book.js'
export type { MakeRequest, TakeRequest, OrderView } from './order-book.js'
export type { OrderRecord, Robot, Trade } from './order-db.js'

/** Node keys the manifest lists with the order book, other than this node's. */
function memberBookNodes(ctx: ServiceContext<Static<typeof orderbookOptions>>): Set<string> {
  const keys = new Set<string>()
  for (const c of ctx.federation.manifest()?.coordinators ?? []) {
    for (const n of c.nodes) if (n.services.includes('orderbook')) keys.add(n.pubkey)
  }
  keys.delete(ctx.nodeKey.pubkey)
  return keys
}

export const orderbookService = defineService({
  name: 'orderbook',
  options: orderbookOptions,
  // Maker and taker are told of a take through NIP-17 messages this node keeps for them.
  dependencies: ['inbox'],
  // 69: P2P orders; 98: the HTTP auth its actions carry.
  nips: [69, 98],
  // Coordinators keep their books in step by passing their orders on.
  replication: [{ kinds: [ORDER_KIND] }],
  terms: termsEntry,
  register(ctx) {
    // On PostgreSQL the book is the database's, shared by the node's processes.
    const db: OrderStore =
      ctx.store instanceof PostgresStore
        ? new PgOrderDb(ctx.store.pool)
        : new OrderDb(
            join(resolve(ctx.config.dataDir), 'orderbook.sqlite'),
            ctx.config.storage.synchronous,
          )
    let book: OrderBook
    try {
      book = new OrderBook(ctx, db)
    } catch (error) {
      db.close()
      throw error
    }
    ctx.addCleanup(() => {
      book.close()
      db.close()
    })
    const registers = [ctx.metrics]
    const actions = new Counter({
      name: 'hansa_orderbook_actions_total',
      help: 'Order-book requests, by action (make, take, confirm, cancel, complete) and result (ok or HANSA_* code)',
      labelNames: ['action', 'result'] as const,
      registers,
    })
    new Gauge({
      name: 'hansa_orderbook_orders',
      help: "Orders on this node's book, by status",
      labelNames: ['status'] as const,
      registers,
      async collect() {
        for (const [status, n] of Object.entries(await db.counts())) this.set({ status }, n)
      },
    })

    ctx.addHook('onEvent', (event) => {
      if (event.kind !== ORDER_KIND) return undefined
      if (memberBookNodes(ctx).has(event.pubkey)) {
        const reading = parseOrder(event)
        if (reading.ok) return undefined // a member coordinator's order, passed on
        const issue = reading.issues[0]!
        return refuse(
          'invalid',
          'orderbook-order',
          `not a NIP-69 order: ${issue.tag}: ${issue.message}`,
        )
      }
      return refuse(
        'blocked',
        'orderbook-publisher',
        event.pubkey === ctx.nodeKey.pubkey
          ? 'this node publishes its own orders; it does not take them back from clients'
          : 'orders (kind 38383) on this node are published by the coordinator: submit yours with POST /orderbook/orders (NIP-98), and the node publishes it signed with its key, naming you as the maker',
      )
    })

    ctx.addMaintenanceTask('orderbook', async () => {
      if (ctx.federation.active()) await book.maintain()
    })
    ctx.log.info(
      { currencies: book.trading.currencies, network: book.trading.network },
      'orderbook: ready',
    )
    return { book, count: (action: string, result: string) => actions.inc({ action, result }) }
  },
  routes: (app, { ctx, state }) =>
    orderbookRoutes(app, {
      book: state.book,
      active: () => ctx.federation.active(),
      nip98: ctx.httpAuth,
      now: ctx.now,
      count: state.count,
    }),
})
