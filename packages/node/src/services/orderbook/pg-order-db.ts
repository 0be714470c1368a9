// The order book on PostgreSQL, for a node whose processes share one database: the same
// table and columns as orderbook.sqlite (order-db.ts), and the same check-and-set: an action
// reads its order FOR UPDATE, the protocol's state machine decides, and the UPDATE names the
// status it read — two takers racing for one order on two processes get one winner. A take
// also holds its taker's lock while it counts the orders she holds, so racing takes by one
// key on several processes cannot pass orderbook.maxOpenTakesPerKey.
import type { NostrEvent, Order, OrderAction, OrderStatus } from '@hansa/protocol'
import type pg from 'pg'
import { inTransaction } from '../../billing/pg-ledger.js'
import {
  type OrderQuery,
  type OrderRecord,
  type OrderRow,
  type OrderStore,
  type Robot,
  type RobotRow,
  type Trade,
  listFilters,
  noOrders,
  toRecord,
  toRobot,
} from './order-db.js'
import { checkConfirm, decideAction, nextEventCreatedAt, releasedStatus } from './order-rules.js'

type Db = pg.Pool | pg.PoolClient

const NUMBERS = [
  'created_at',
  'expires_at',
  'updated_at',
  'event_created_at',
  'trade_sats',
  'maker_fee',
  'taker_fee',
  'taken_at',
  'confirmed_at',
  'first_seen',
  'last_seen',
  'orders_made',
  'orders_taken',
] as const

/** bigint columns arrive as strings; the records hold numbers (as from SQLite). */
function numbers<T>(row: Record<string, unknown>): T {
  const out: Record<string, unknown> = { ...row }
  for (const c of NUMBERS) if (typeof out[c] === 'string') out[c] = Number(out[c])
  return out as T
}

const TOUCH_ROBOT = `INSERT INTO robots (pubkey, first_seen, last_seen, orders_made, orders_taken)
  VALUES ($1, $2, $2, $3, $4)
  ON CONFLICT (pubkey) DO UPDATE SET last_seen = $2,
    orders_made = robots.orders_made + $3, orders_taken = robots.orders_taken + $4`

export class PgOrderDb implements OrderStore {
  constructor(private readonly pool: pg.Pool) {}

  async get(id: string, db: Db = this.pool, lock = false): Promise<OrderRecord | undefined> {
    const { rows } = await db.query(
      `SELECT * FROM orders WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
      [id],
    )
    return rows[0] ? toRecord(numbers<OrderRow>(rows[0])) : undefined
  }

  async insert(order: Order, now: number): Promise<OrderRecord> {
    return inTransaction(this.pool, async (c) => {
      await c.query(
        `INSERT INTO orders (id, maker, side, currency, status, order_json, created_at, expires_at,
           updated_at, event_created_at)
         VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $6, $6)`,
        [
          order.id,
          order.maker,
          order.side,
          order.currency,
          JSON.stringify(order),
          now,
          order.expiresAt,
        ],
      )
      await c.query(TOUCH_ROBOT, [order.maker, now, 1, 0])
      return (await this.get(order.id, c))!
    })
  }

  async apply(
    id: string,
    action: OrderAction,
    now: number,
    trade?: (record: OrderRecord, openTakes: number) => Trade,
  ): Promise<OrderRecord> {
    return inTransaction(this.pool, async (c) => {
      let openTakes = 0
      if (action.type === 'take') {
        await c.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
          `hansa-taker:${action.by}`,
        ])
        openTakes = await this.openTakesOf(action.by, c)
      }
      const { record, next } = decideAction(id, await this.get(id, c, true), action)
      const agreed = trade?.(record, openTakes)
      const result = await c.query(
        `UPDATE orders SET status = $3, taker = $4, updated_at = $5,
           event_created_at = $6, published = 0,
           trade_sats = coalesce($7, trade_sats), trade_fiat = coalesce($8, trade_fiat),
           maker_fee = coalesce($9, maker_fee), taker_fee = coalesce($10, taker_fee)
         WHERE id = $1 AND status = $2`,
        [
          id,
          record.status,
          next.status,
          next.taker,
          now,
          nextEventCreatedAt(record, now),
          agreed?.sats ?? null,
          agreed?.fiat ?? null,
          agreed?.makerFee ?? null,
          agreed?.takerFee ?? null,
        ],
      )
      if (result.rowCount !== 1) throw new Error(`order ${id} changed under its transaction`)
      if (action.type === 'take') {
        await c.query(TOUCH_ROBOT, [action.by, now, 0, 1])
        await c.query('UPDATE orders SET taken_at = $1, confirmed_at = NULL WHERE id = $2', [
          now,
          id,
        ])
      }
      if (action.type === 'complete') {
        await c.query('UPDATE orders SET confirmed_at = coalesce(confirmed_at, $1) WHERE id = $2', [
          now,
          id,
        ])
      }
      return (await this.get(id, c))!
    })
  }

  async confirm(id: string, by: string, now: number): Promise<OrderRecord> {
    return inTransaction(this.pool, async (c) => {
      checkConfirm(id, await this.get(id, c, true), by)
      await c.query('UPDATE orders SET confirmed_at = coalesce(confirmed_at, $1) WHERE id = $2', [
        now,
        id,
      ])
      return (await this.get(id, c))!
    })
  }

  async release(
    id: string,
    now: number,
  ): Promise<{ record: OrderRecord; taker: string } | undefined> {
    return inTransaction(this.pool, async (c) => {
      const before = await this.get(id, c, true)
      if (before === undefined || before.taker === null) return undefined
      const result = await c.query(
        `UPDATE orders SET status = $2, taker = NULL, updated_at = $3,
           event_created_at = $4, published = 0, trade_sats = NULL,
           trade_fiat = NULL, maker_fee = NULL, taker_fee = NULL, taken_at = NULL,
           confirmed_at = NULL
         WHERE id = $1 AND status = 'in-progress' AND confirmed_at IS NULL`,
        [id, releasedStatus(before, now), now, nextEventCreatedAt(before, now)],
      )
      if (result.rowCount !== 1) return undefined
      return { record: (await this.get(id, c))!, taker: before.taker }
    })
  }

  async lapsed(takenBy: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id FROM orders WHERE status = 'in-progress' AND confirmed_at IS NULL
         AND taken_at <= $1 ORDER BY taken_at`,
      [takenBy],
    )
    return rows.map((r) => r.id)
  }

  private async scalar(sql: string, params: unknown[] = [], db: Db = this.pool) {
    const { rows } = await db.query<{ v: string | null }>(sql, params)
    const v = rows[0]?.v ?? null
    return v === null ? null : Number(v)
  }

  nextLapse(): Promise<number | null> {
    return this.scalar(
      "SELECT min(taken_at) AS v FROM orders WHERE status = 'in-progress' AND confirmed_at IS NULL",
    )
  }

  async openTakesOf(taker: string, db: Db = this.pool): Promise<number> {
    return (
      (await this.scalar(
        "SELECT count(*) AS v FROM orders WHERE taker = $1 AND status = 'in-progress'",
        [taker],
        db,
      )) ?? 0
    )
  }

  async markPublished(id: string, event: NostrEvent): Promise<void> {
    await this.pool.query(
      'UPDATE orders SET published = 1, event_json = $3 WHERE id = $1 AND event_created_at = $2',
      [id, event.created_at, JSON.stringify(event)],
    )
  }

  async unpublished(): Promise<OrderRecord[]> {
    const { rows } = await this.pool.query(
      'SELECT * FROM orders WHERE published = 0 ORDER BY updated_at',
    )
    return rows.map((r) => toRecord(numbers<OrderRow>(r)))
  }

  async due(now: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      "SELECT id FROM orders WHERE status = 'pending' AND expires_at <= $1 ORDER BY expires_at",
      [now],
    )
    return rows.map((r) => r.id)
  }

  nextExpiry(): Promise<number | null> {
    return this.scalar("SELECT min(expires_at) AS v FROM orders WHERE status = 'pending'")
  }

  async pendingOf(maker: string, now: number): Promise<number> {
    return (
      (await this.scalar(
        "SELECT count(*) AS v FROM orders WHERE maker = $1 AND status = 'pending' AND expires_at > $2",
        [maker, now],
      )) ?? 0
    )
  }

  async unbooked(): Promise<OrderRecord[]> {
    const { rows } = await this.pool.query(
      `SELECT * FROM orders WHERE trade_sats IS NOT NULL AND confirmed_at IS NOT NULL
         AND (maker_fee_booked = 0 OR taker_fee_booked = 0)`,
    )
    return rows.map((r) => toRecord(numbers<OrderRow>(r)))
  }

  async markBooked(id: string, side: 'maker' | 'taker'): Promise<void> {
    await this.pool.query(
      `UPDATE orders SET ${side === 'maker' ? 'maker_fee_booked' : 'taker_fee_booked'} = 1 WHERE id = $1`,
      [id],
    )
  }

  async list(query: OrderQuery): Promise<OrderRecord[]> {
    const filters = listFilters(query)
    const where = filters.map(([column], i) => `${column} = $${i + 1}`)
    const params: unknown[] = filters.map(([, value]) => value)
    params.push(query.limit)
    const { rows } = await this.pool.query(
      `SELECT * FROM orders ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id LIMIT $${params.length}`,
      params,
    )
    return rows.map((r) => toRecord(numbers<OrderRow>(r)))
  }

  async counts(): Promise<Record<OrderStatus, number>> {
    const out = noOrders()
    const { rows } = await this.pool.query<{ status: OrderStatus; n: string }>(
      'SELECT status, count(*) AS n FROM orders GROUP BY status',
    )
    for (const r of rows) out[r.status] = Number(r.n)
    return out
  }

  async touchRobot(pubkey: string, now: number): Promise<{ robot: Robot; created: boolean }> {
    return inTransaction(this.pool, async (c) => {
      const inserted = await c.query(
        `INSERT INTO robots (pubkey, first_seen, last_seen) VALUES ($1, $2, $2)
         ON CONFLICT (pubkey) DO UPDATE SET last_seen = $2 RETURNING (xmax = 0) AS created`,
        [pubkey, now],
      )
      const { rows } = await c.query('SELECT * FROM robots WHERE pubkey = $1', [pubkey])
      return {
        robot: toRobot(numbers<RobotRow>(rows[0]!)),
        created: (inserted.rows[0] as { created: boolean }).created,
      }
    })
  }

  close(): void {}
}
