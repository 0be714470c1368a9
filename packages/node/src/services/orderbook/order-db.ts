// The order book's own database: `orderbook.sqlite` in the data folder, beside the event store.
// The store keeps what the node published (kind-38383 events, for any Nostr client); this
// database keeps what the coordinator decides on: each order's status, its maker and taker,
// the trade, and two "outbox" flags — whether the event of the current status has been
// published and whether the trade's fees have been booked — so a crash between the decision
// and its consequences is repaired by the maintenance task, never lost or done twice.
//
// Every status change is a check-and-set in one IMMEDIATE transaction: the row is read, the
// protocol's state machine (order-state.ts) decides, and the UPDATE names the status it read.
// Two takers racing for one order therefore get exactly one winner, whether their requests
// interleave in this process or come from several processes sharing the file.
import type { NostrEvent, Order, OrderAction, OrderStatus } from '@hansa/protocol'
import Database from 'better-sqlite3'
import { checkConfirm, decideAction, nextEventCreatedAt, releasedStatus } from './order-rules.js'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS orders (
  id TEXT PRIMARY KEY,
  maker TEXT NOT NULL,
  side TEXT NOT NULL,
  currency TEXT NOT NULL,
  status TEXT NOT NULL,
  taker TEXT,
  order_json TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  event_created_at INTEGER NOT NULL,
  event_json TEXT,
  published INTEGER NOT NULL DEFAULT 0,
  trade_sats INTEGER,
  trade_fiat REAL,
  maker_fee INTEGER,
  taker_fee INTEGER,
  maker_fee_booked INTEGER NOT NULL DEFAULT 0,
  taker_fee_booked INTEGER NOT NULL DEFAULT 0,
  taken_at INTEGER,
  confirmed_at INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS orders_status ON orders (status, expires_at);
CREATE INDEX IF NOT EXISTS orders_maker ON orders (maker, status);
CREATE INDEX IF NOT EXISTS orders_taker ON orders (taker, status);
CREATE TABLE IF NOT EXISTS robots (
  pubkey TEXT PRIMARY KEY,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  orders_made INTEGER NOT NULL DEFAULT 0,
  orders_taken INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
`

export type OrderRow = {
  id: string
  maker: string
  side: 'buy' | 'sell'
  currency: string
  status: OrderStatus
  taker: string | null
  order_json: string
  created_at: number
  expires_at: number
  updated_at: number
  event_created_at: number
  event_json: string | null
  published: number
  trade_sats: number | null
  trade_fiat: number | null
  maker_fee: number | null
  taker_fee: number | null
  maker_fee_booked: number
  taker_fee_booked: number
  taken_at: number | null
  confirmed_at: number | null
}

export type RobotRow = {
  pubkey: string
  first_seen: number
  last_seen: number
  orders_made: number
  orders_taken: number
}

/** A trade: what was agreed when the order was taken, and the coordinator's fees on it. */
export type Trade = { sats: number; fiat: number; makerFee: number; takerFee: number }

/** An order as the coordinator keeps it. `order` is as made; `status` and `taker` are now. */
export type OrderRecord = {
  order: Order
  status: OrderStatus
  taker: string | null
  trade: Trade | null
  createdAt: number
  updatedAt: number
  /** created_at of the event for the current status (strictly increasing per order). */
  eventCreatedAt: number
  /** The last event published for the order, or null before the first. */
  event: NostrEvent | null
  published: boolean
  feesBooked: { maker: boolean; taker: boolean }
  /** When the current take happened (null while pending). */
  takenAt: number | null
  /** When the maker confirmed the take, or the trade completed (null: the take may lapse). */
  confirmedAt: number | null
}

/** A user's key as a coordinator knows it (RoboSats's robot): registered on first use. */
export type Robot = {
  pubkey: string
  firstSeen: number
  lastSeen: number
  ordersMade: number
  ordersTaken: number
}

export type OrderQuery = {
  status?: OrderStatus | undefined
  currency?: string | undefined
  side?: 'buy' | 'sell' | undefined
  maker?: string | undefined
  limit: number
}

/** The columns a listing filters on, each with the value the query asks for. */
export function listFilters(query: OrderQuery): Array<[column: string, value: string]> {
  const out: Array<[string, string]> = []
  for (const [column, value] of [
    ['status', query.status],
    ['currency', query.currency],
    ['side', query.side],
    ['maker', query.maker],
  ] as const) {
    if (value !== undefined) out.push([column, value])
  }
  return out
}

/** Orders counted by status, before any is counted. */
export const noOrders = (): Record<OrderStatus, number> => ({
  pending: 0,
  'in-progress': 0,
  success: 0,
  canceled: 0,
  expired: 0,
})

export const toRecord = (r: OrderRow): OrderRecord => ({
  order: JSON.parse(r.order_json) as Order,
  status: r.status,
  taker: r.taker,
  trade:
    r.trade_sats === null
      ? null
      : {
          sats: r.trade_sats,
          fiat: r.trade_fiat ?? 0,
          makerFee: r.maker_fee ?? 0,
          takerFee: r.taker_fee ?? 0,
        },
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  eventCreatedAt: r.event_created_at,
  event: r.event_json === null ? null : (JSON.parse(r.event_json) as NostrEvent),
  published: r.published === 1,
  feesBooked: { maker: r.maker_fee_booked === 1, taker: r.taker_fee_booked === 1 },
  takenAt: r.taken_at,
  confirmedAt: r.confirmed_at,
})

export const toRobot = (r: RobotRow): Robot => ({
  pubkey: r.pubkey,
  firstSeen: r.first_seen,
  lastSeen: r.last_seen,
  ordersMade: r.orders_made,
  ordersTaken: r.orders_taken,
})

/**
 * Adds the take's timestamps to a book made before takes could lapse. Trades taken before
 * then count as confirmed: nobody was asked to confirm them, and their fees are booked.
 */
function migrate(db: Database.Database): void {
  const columns = db.prepare('PRAGMA table_info(orders)').all() as Array<{ name: string }>
  if (columns.length === 0 || columns.some((c) => c.name === 'taken_at')) return
  db.transaction(() => {
    db.exec('ALTER TABLE orders ADD COLUMN taken_at INTEGER')
    db.exec('ALTER TABLE orders ADD COLUMN confirmed_at INTEGER')
    db.exec(
      'UPDATE orders SET taken_at = updated_at, confirmed_at = updated_at WHERE taker IS NOT NULL',
    )
  })()
}

type Awaitable<T> = T | Promise<T>

/**
 * What the order book keeps, in orderbook.sqlite (OrderDb) or, on a node whose events are in
 * PostgreSQL, in that database (PgOrderDb, shared by the node's processes).
 */
export interface OrderStore {
  get(id: string): Awaitable<OrderRecord | undefined>
  insert(order: Order, now: number): Awaitable<OrderRecord>
  apply(
    id: string,
    action: OrderAction,
    now: number,
    trade?: (record: OrderRecord, openTakes: number) => Trade,
  ): Awaitable<OrderRecord>
  confirm(id: string, by: string, now: number): Awaitable<OrderRecord>
  release(id: string, now: number): Awaitable<{ record: OrderRecord; taker: string } | undefined>
  lapsed(takenBy: number): Awaitable<string[]>
  nextLapse(): Awaitable<number | null>
  markPublished(id: string, event: NostrEvent): Awaitable<void>
  unpublished(): Awaitable<OrderRecord[]>
  due(now: number): Awaitable<string[]>
  nextExpiry(): Awaitable<number | null>
  pendingOf(maker: string, now: number): Awaitable<number>
  unbooked(): Awaitable<OrderRecord[]>
  markBooked(id: string, side: 'maker' | 'taker'): Awaitable<void>
  list(query: OrderQuery): Awaitable<OrderRecord[]>
  counts(): Awaitable<Record<OrderStatus, number>>
  touchRobot(pubkey: string, now: number): Awaitable<{ robot: Robot; created: boolean }>
  close(): void
}

export class OrderDb implements OrderStore {
  private readonly db: Database.Database
  private readonly stmt

  constructor(path: string, synchronous: 'full' | 'normal') {
    this.db = new Database(path)
    try {
      this.db.pragma('journal_mode = WAL')
      this.db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`)
      this.db.pragma('busy_timeout = 5000')
      migrate(this.db)
      this.db.exec(SCHEMA)
    } catch (error) {
      this.db.close()
      throw error
    }
    const db = this.db
    this.stmt = {
      get: db.prepare('SELECT * FROM orders WHERE id = ?'),
      insert: db.prepare(
        `INSERT INTO orders (id, maker, side, currency, status, order_json, created_at, expires_at,
           updated_at, event_created_at)
         VALUES (@id, @maker, @side, @currency, 'pending', @order_json, @now, @expires_at, @now, @now)`,
      ),
      update: db.prepare(
        `UPDATE orders SET status = @status, taker = @taker, updated_at = @now,
           event_created_at = @event_created_at, published = 0,
           trade_sats = coalesce(@trade_sats, trade_sats), trade_fiat = coalesce(@trade_fiat, trade_fiat),
           maker_fee = coalesce(@maker_fee, maker_fee), taker_fee = coalesce(@taker_fee, taker_fee)
         WHERE id = @id AND status = @expected`,
      ),
      published: db.prepare(
        `UPDATE orders SET published = 1, event_json = @event_json
         WHERE id = @id AND event_created_at = @event_created_at`,
      ),
      unpublished: db.prepare('SELECT * FROM orders WHERE published = 0 ORDER BY updated_at'),
      due: db
        .prepare(
          "SELECT id FROM orders WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at",
        )
        .pluck(),
      nextExpiry: db.prepare("SELECT min(expires_at) FROM orders WHERE status = 'pending'").pluck(),
      pendingOf: db
        .prepare(
          "SELECT count(*) FROM orders WHERE maker = ? AND status = 'pending' AND expires_at > ?",
        )
        .pluck(),
      unbooked: db.prepare(
        `SELECT * FROM orders WHERE trade_sats IS NOT NULL AND confirmed_at IS NOT NULL
           AND (maker_fee_booked = 0 OR taker_fee_booked = 0)`,
      ),
      taken: db.prepare('UPDATE orders SET taken_at = ?, confirmed_at = NULL WHERE id = ?'),
      confirmed: db.prepare(
        'UPDATE orders SET confirmed_at = coalesce(confirmed_at, ?) WHERE id = ?',
      ),
      released: db.prepare(
        `UPDATE orders SET status = @status, taker = NULL, updated_at = @now,
           event_created_at = @event_created_at, published = 0, trade_sats = NULL,
           trade_fiat = NULL, maker_fee = NULL, taker_fee = NULL, taken_at = NULL,
           confirmed_at = NULL
         WHERE id = @id AND status = 'in-progress' AND confirmed_at IS NULL`,
      ),
      lapsed: db
        .prepare(
          `SELECT id FROM orders WHERE status = 'in-progress' AND confirmed_at IS NULL
             AND taken_at <= ? ORDER BY taken_at`,
        )
        .pluck(),
      nextLapse: db
        .prepare(
          "SELECT min(taken_at) FROM orders WHERE status = 'in-progress' AND confirmed_at IS NULL",
        )
        .pluck(),
      openTakesOf: db
        .prepare("SELECT count(*) FROM orders WHERE taker = ? AND status = 'in-progress'")
        .pluck(),
      makerBooked: db.prepare('UPDATE orders SET maker_fee_booked = 1 WHERE id = ?'),
      takerBooked: db.prepare('UPDATE orders SET taker_fee_booked = 1 WHERE id = ?'),
      counts: db.prepare('SELECT status, count(*) AS n FROM orders GROUP BY status'),
      robot: db.prepare('SELECT * FROM robots WHERE pubkey = ?'),
      touchRobot: db.prepare(
        `INSERT INTO robots (pubkey, first_seen, last_seen, orders_made, orders_taken)
         VALUES (@pubkey, @now, @now, @made, @taken)
         ON CONFLICT (pubkey) DO UPDATE SET last_seen = @now,
           orders_made = orders_made + @made, orders_taken = orders_taken + @taken`,
      ),
    }
  }

  get(id: string): OrderRecord | undefined {
    const row = this.stmt.get.get(id) as OrderRow | undefined
    return row === undefined ? undefined : toRecord(row)
  }

  /** Records a new pending order (and its maker's robot) in one transaction. */
  insert(order: Order, now: number): OrderRecord {
    return this.db
      .transaction(() => {
        this.stmt.insert.run({
          id: order.id,
          maker: order.maker,
          side: order.side,
          currency: order.currency,
          order_json: JSON.stringify(order),
          now,
          expires_at: order.expiresAt,
        })
        this.stmt.touchRobot.run({ pubkey: order.maker, now, made: 1, taken: 0 })
        return this.get(order.id)!
      })
      .immediate()
  }

  /**
   * Applies one action to one order: read, decide (the protocol's state machine), write — in
   * one IMMEDIATE transaction. `trade` may compute the trade of a take from the order as read
   * and the orders its taker holds in progress; it runs inside the transaction and may throw to
   * refuse. Throws OrderbookRequestError.
   */
  apply(
    id: string,
    action: OrderAction,
    now: number,
    trade?: (record: OrderRecord, openTakes: number) => Trade,
  ): OrderRecord {
    return this.db
      .transaction(() => {
        const { record, next } = decideAction(id, this.get(id), action)
        const agreed = trade?.(record, action.type === 'take' ? this.openTakesOf(action.by) : 0)
        const result = this.stmt.update.run({
          id,
          expected: record.status,
          status: next.status,
          taker: next.taker,
          now,
          event_created_at: nextEventCreatedAt(record, now),
          trade_sats: agreed?.sats ?? null,
          trade_fiat: agreed?.fiat ?? null,
          maker_fee: agreed?.makerFee ?? null,
          taker_fee: agreed?.takerFee ?? null,
        })
        if (result.changes !== 1) throw new Error(`order ${id} changed under its transaction`)
        if (action.type === 'take') {
          this.stmt.touchRobot.run({ pubkey: action.by, now, made: 0, taken: 1 })
          this.stmt.taken.run(now, id)
        }
        if (action.type === 'complete') this.stmt.confirmed.run(now, id)
        return this.get(id)!
      })
      .immediate()
  }

  /**
   * The maker confirms the take (its amount and price): the trade goes on and can no longer
   * lapse. Only the maker, only once, only while the order is in progress.
   */
  confirm(id: string, by: string, now: number): OrderRecord {
    return this.db
      .transaction(() => {
        checkConfirm(id, this.get(id), by)
        this.stmt.confirmed.run(now, id)
        return this.get(id)!
      })
      .immediate()
  }

  /**
   * Returns a lapsed take's order to the book (pending again, or expired when its time has
   * come meanwhile), forgetting the taker and the trade. Undefined when the take was
   * confirmed or the order moved on in the meantime.
   */
  release(id: string, now: number): { record: OrderRecord; taker: string } | undefined {
    return this.db
      .transaction(() => {
        const before = this.get(id)
        if (before === undefined || before.taker === null) return undefined
        const result = this.stmt.released.run({
          id,
          status: releasedStatus(before, now),
          now,
          event_created_at: nextEventCreatedAt(before, now),
        })
        if (result.changes !== 1) return undefined
        return { record: this.get(id)!, taker: before.taker }
      })
      .immediate()
  }

  /** Ids of unconfirmed takes made at or before `takenBy` (they have lapsed). */
  lapsed(takenBy: number): string[] {
    return this.stmt.lapsed.all(takenBy) as string[]
  }

  /** When the oldest unconfirmed take was made, or null. */
  nextLapse(): number | null {
    return (this.stmt.nextLapse.get() as number | null) ?? null
  }

  /** Orders `taker` holds in progress. */
  openTakesOf(taker: string): number {
    return this.stmt.openTakesOf.get(taker) as number
  }

  /** Marks the event of the order's current status published (unless the status moved on). */
  markPublished(id: string, event: NostrEvent): void {
    this.stmt.published.run({
      id,
      event_created_at: event.created_at,
      event_json: JSON.stringify(event),
    })
  }

  /** Orders whose current status has not been published yet (a crash in between). */
  unpublished(): OrderRecord[] {
    return (this.stmt.unpublished.all() as OrderRow[]).map(toRecord)
  }

  /** Ids of pending orders whose expires_at has come. */
  due(now: number): string[] {
    return this.stmt.due.all(now) as string[]
  }

  /** The earliest expires_at of a pending order, or null. */
  nextExpiry(): number | null {
    return (this.stmt.nextExpiry.get() as number | null) ?? null
  }

  pendingOf(maker: string, now: number): number {
    return this.stmt.pendingOf.get(maker, now) as number
  }

  /** Taken orders with a fee not booked yet. */
  unbooked(): OrderRecord[] {
    return (this.stmt.unbooked.all() as OrderRow[]).map(toRecord)
  }

  markBooked(id: string, side: 'maker' | 'taker'): void {
    ;(side === 'maker' ? this.stmt.makerBooked : this.stmt.takerBooked).run(id)
  }

  list(query: OrderQuery): OrderRecord[] {
    const filters = listFilters(query)
    const where = filters.map(([column]) => `${column} = ?`)
    const params = filters.map(([, value]) => value)
    const sql = `SELECT * FROM orders ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, id LIMIT ?`
    return (this.db.prepare(sql).all(...params, query.limit) as OrderRow[]).map(toRecord)
  }

  counts(): Record<OrderStatus, number> {
    const out = noOrders()
    for (const r of this.stmt.counts.all() as Array<{ status: OrderStatus; n: number }>) {
      out[r.status] = r.n
    }
    return out
  }

  /** Registers a key on first use (RoboSats's robot) or notes that it came back. */
  touchRobot(pubkey: string, now: number): { robot: Robot; created: boolean } {
    return this.db
      .transaction(() => {
        const before = this.stmt.robot.get(pubkey) as RobotRow | undefined
        this.stmt.touchRobot.run({ pubkey, now, made: 0, taken: 0 })
        const after = this.stmt.robot.get(pubkey) as RobotRow
        return { robot: toRobot(after), created: before === undefined }
      })
      .immediate()
  }

  robot(pubkey: string): Robot | undefined {
    const row = this.stmt.robot.get(pubkey) as RobotRow | undefined
    return row === undefined ? undefined : toRobot(row)
  }

  close(): void {
    this.db.close()
  }
}
