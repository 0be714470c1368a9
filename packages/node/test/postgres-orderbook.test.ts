// The order book on PostgreSQL, shared by a node's processes: four takers on two connection
// pools (as two processes would hold) race for the same orders and each order gets exactly one
// taker; one key taking through both pools at once cannot hold more orders than
// orderbook.maxOpenTakesPerKey; a trade fee booked by two processes at once is booked once.
import type { Order } from '@hansa/protocol'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PgBooks, inTransaction } from '../src/billing/pg-ledger.js'
import { PgOrderDb } from '../src/services/orderbook/pg-order-db.js'
import { migrateDatabase } from '../src/store/postgres-schema.js'
import { freshDatabase, pgUrl } from './pg-test-db.js'

const now = 1_800_000_000
const hex = (c: string) => c.repeat(64)

const order = (i: number): Order => ({
  id: `order-${i}`,
  side: 'sell',
  currency: 'EUR',
  status: 'pending',
  amount: 100_000,
  fiatAmount: [50],
  paymentMethods: ['SEPA'],
  premium: 0,
  network: 'regtest',
  layer: 'lightning',
  expiresAt: now + 3600,
  expiration: now + 7200,
  platform: ['hansa'],
  maker: hex('a'),
})

const trade = { sats: 100_000, fiat: 50, makerFee: 100, takerFee: 200 }

describe.skipIf(!pgUrl)('PostgreSQL: the order book shared by processes', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>
  let pools: pg.Pool[]

  beforeAll(async () => {
    db = await freshDatabase()
    pools = [0, 1].map(() => {
      const pool = new pg.Pool({ connectionString: db.url, max: 4 })
      // As the node's own pools do: a client ended by the server (the database dropped at
      // teardown while it closes) is an 'error' event, not a failure of the test.
      pool.on('error', () => {})
      return pool
    })
    await migrateDatabase(pools[0]!)
  })
  afterAll(async () => {
    for (const p of pools ?? []) await p.end()
    await db?.drop()
  })

  it('gives each order exactly one taker when takers race on two processes', async () => {
    const books = pools.map((p) => new PgOrderDb(p))
    const ids: string[] = []
    for (let i = 0; i < 40; i++) {
      await books[0]!.insert(order(i), now)
      ids.push(`order-${i}`)
    }
    const takers = ['b', 'c', 'd', 'e'].map(hex)
    const attempts = takers.flatMap((taker, t) =>
      ids.map(async (id) => {
        try {
          const r = await books[t % 2]!.apply(
            id,
            { type: 'take', by: taker, at: now + 1 },
            now + 1,
            () => trade,
          )
          return { id, taker, won: r.taker === taker, code: null }
        } catch (error) {
          return { id, taker, won: false, code: (error as { code?: string }).code ?? 'other' }
        }
      }),
    )
    const outcome = await Promise.all(attempts)
    for (const id of ids) {
      const winners = outcome.filter((o) => o.id === id && o.won)
      expect(winners).toHaveLength(1)
      expect((await books[1]!.get(id))?.taker).toBe(winners[0]!.taker)
    }
    expect(outcome.filter((o) => !o.won).every((o) => o.code === 'HANSA_ORDER_NOT_PENDING')).toBe(
      true,
    )
    expect((await books[1]!.counts())['in-progress']).toBe(ids.length)
  })

  it('holds one key to its open-take limit across processes', async () => {
    const books = pools.map((p) => new PgOrderDb(p))
    for (let i = 100; i < 120; i++) await books[1]!.insert(order(i), now)
    const taker = hex('f')
    const limit = 3
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        books[i % 2]!.apply(
          `order-${100 + i}`,
          { type: 'take', by: taker, at: now + 1 },
          now + 1,
          (_r, openTakes) => {
            if (openTakes >= limit) throw Object.assign(new Error('too many'), { code: 'LIMIT' })
            return trade
          },
        ).then(
          () => 'taken',
          (e: { code?: string }) => e.code,
        ),
      ),
    )
    expect(results.filter((r) => r === 'taken')).toHaveLength(limit)
    expect(results.filter((r) => r !== 'taken').every((r) => r === 'LIMIT')).toBe(true)
  })

  it('books a trade fee once when two processes book it at once', async () => {
    const books = pools.map((p) => new PgBooks(p, { unit: 'msat', rateBps: 2000, now: () => now }))
    const fee = {
      peer: hex('b'),
      purpose: 'trade-fee' as const,
      service: 'orderbook',
      rail: 'orderbook',
      reference: 'order:order-1:maker-fee',
      amount: 100_000n,
    }
    const results = await Promise.allSettled(
      [0, 1, 0, 1].map((i) => inTransaction(pools[i]!, (c) => books[i]!.book(c, fee))),
    )
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
    const totals = await books[0]!.totals()
    expect(totals).toMatchObject({ payments: 1, received: 100_000n })
    expect(totals.income + totals.devTax).toBe(100_000n)
  })
})
