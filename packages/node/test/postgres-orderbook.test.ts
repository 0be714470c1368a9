// The order book on PostgreSQL, shared by a node's processes: four takers on two connection
// pools (as two processes would hold) race for the same orders and each order gets exactly one
// taker; one key taking through both pools at once cannot hold more orders than
// orderbook.maxOpenTakesPerKey; a trade fee booked by two processes at once is booked once;
// and the SQLite and PostgreSQL stores refuse, list and release alike (one set of rules).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Order } from '@hansa/protocol'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PgBooks, inTransaction } from '../src/billing/pg-ledger.js'
import { OrderDb, type OrderStore } from '../src/services/orderbook/order-db.js'
import { PgOrderDb } from '../src/services/orderbook/pg-order-db.js'
import { migrateDatabase } from '../src/store/postgres-schema.js'
import { sellOrder } from './helpers.js'
import { freshDatabase, pgUrl } from './pg-test-db.js'

const now = 1_800_000_000
const hex = (c: string) => c.repeat(64)

const order = (i: number): Order => sellOrder(`order-${i}`, hex('a'), now)

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

  it('refuses, lists and releases exactly as the SQLite store does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hansa-orders-'))
    const sqlite = new OrderDb(join(dir, 'orderbook.sqlite'), 'normal')
    const stores: Array<[string, OrderStore]> = [
      ['sqlite', sqlite],
      ['postgres', new PgOrderDb(pools[0]!)],
    ]
    const outcome = async (fn: () => unknown) => {
      try {
        type Rec = { status?: string; taker?: string | null }
        const r = (await fn()) as (Rec & { record?: Rec }) | undefined
        const rec = r?.record ?? r
        return { ok: rec?.status ?? null, taker: rec?.taker ?? null }
      } catch (e) {
        const err = e as { code?: string; status?: number; shortMessage?: string }
        return { code: err.code, status: err.status, message: err.shortMessage }
      }
    }
    const seen: Record<string, unknown[]> = {}
    try {
      for (const [name, store] of stores) {
        const at = (i: number) => `conf-${i}`
        const o = (i: number, over: Partial<Order>): Order => ({ ...order(0), id: at(i), ...over })
        await store.insert(o(1, {}), now)
        await store.insert(o(2, { side: 'buy', currency: 'USD' }), now)
        await store.insert(o(3, { maker: hex('9'), expiresAt: now + 10 }), now)
        const taker = hex('7')
        const steps = [
          () => store.confirm('conf-404', hex('a'), now),
          () => store.confirm(at(1), hex('a'), now),
          () => store.apply(at(1), { type: 'take', by: taker, at: now + 1 }, now + 1, () => trade),
          () => store.confirm(at(1), taker, now + 2),
          () => store.apply(at(1), { type: 'complete', by: taker, at: now + 2 }, now + 2),
          () => store.apply(at(2), { type: 'take', by: hex('a'), at: now + 1 }, now + 1),
          () => store.apply(at(2), { type: 'take', by: taker, at: now + 1 }, now + 1, () => trade),
          () => store.apply(at(2), { type: 'complete', by: taker, at: now + 2 }, now + 2),
          () => store.confirm(at(2), hex('a'), now + 2),
          () => store.apply(at(2), { type: 'complete', by: taker, at: now + 3 }, now + 3),
          () => store.confirm(at(2), hex('a'), now + 4),
          () => store.apply(at(3), { type: 'take', by: taker, at: now + 1 }, now + 1, () => trade),
          () => store.release(at(3), now + 20),
          () => store.apply(at(1), { type: 'take', by: taker, at: now + 3 }, now + 3),
          () => store.confirm(at(1), hex('a'), now + 4),
          () => store.apply(at(1), { type: 'complete', by: taker, at: now + 5 }, now + 5),
        ]
        const results: unknown[] = []
        for (const step of steps) results.push(await outcome(step))
        for (const query of [
          { limit: 10 },
          { currency: 'USD', limit: 10 },
          { side: 'sell' as const, status: 'pending' as const, limit: 10 },
          { maker: hex('9'), limit: 10 },
          { status: 'expired' as const, limit: 10 },
        ]) {
          const listed = await store.list(query)
          results.push(listed.filter((r) => r.order.id.startsWith('conf-')).map((r) => r.order.id))
        }
        seen[name] = results
      }
    } finally {
      sqlite.close()
      rmSync(dir, { recursive: true, force: true })
    }
    expect(seen.postgres).toEqual(seen.sqlite)
    // and the rules themselves, pinned once
    expect(seen.sqlite!.slice(0, 5)).toEqual([
      {
        code: 'HANSA_ORDER_NOT_FOUND',
        status: 404,
        message: "no order conf-404 on this node's book",
      },
      {
        code: 'HANSA_ORDER_NOT_IN_PROGRESS',
        status: 409,
        message: 'cannot confirm it: the order is pending',
      },
      { ok: 'in-progress', taker: hex('7') },
      {
        code: 'HANSA_ORDER_NOT_MAKER',
        status: 403,
        message: "only the maker confirms a take (the taker's amount and price)",
      },
      expect.objectContaining({ code: 'HANSA_ORDER_NOT_SELLER', status: 403 }),
    ])
    expect(seen.sqlite![7]).toMatchObject({ code: 'HANSA_ORDER_UNCONFIRMED', status: 409 })
    expect(seen.sqlite![12]).toEqual({ ok: 'expired', taker: null })
    expect(seen.sqlite!.slice(-5)).toEqual([
      ['conf-1', 'conf-2', 'conf-3'],
      ['conf-2'],
      [],
      ['conf-3'],
      ['conf-3'],
    ])
  })
})
