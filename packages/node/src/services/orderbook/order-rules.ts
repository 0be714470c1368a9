// The order book's rules on one order as read, shared by its two backends (order-db.ts on
// SQLite, pg-order-db.ts on PostgreSQL): each backend reads the row in its own transaction,
// these pure functions decide, and the backend writes. Kept apart so the two cannot drift.
import { type OrderAction, type OrderState, nextOrderState } from '@hansa/protocol'
import { OrderbookRequestError, orderNotFound, stateRefused, unconfirmed } from './errors.js'
import type { OrderRecord } from './order-db.js'

/** The order as the protocol's state machine sees it. */
export const stateOf = (r: OrderRecord): OrderState => ({
  status: r.status,
  side: r.order.side,
  maker: r.order.maker ?? '',
  taker: r.taker,
  expiresAt: r.order.expiresAt,
})

/**
 * Decides one action on the order as read: the protocol's state machine, then the node's own
 * rule on completing. Returns the order's next state; throws OrderbookRequestError.
 */
export function decideAction(
  id: string,
  record: OrderRecord | undefined,
  action: OrderAction,
): { record: OrderRecord; next: OrderState } {
  if (record === undefined) throw orderNotFound(id)
  const next = nextOrderState(stateOf(record), action)
  if (!next.ok) throw stateRefused(next.error)
  // A taker who sells (a buy order) completes only a trade its maker confirmed: else a
  // taker could take an order and end it at once, pulling it off the book for good.
  if (action.type === 'complete' && record.confirmedAt === null) {
    if (action.by !== record.order.maker) throw unconfirmed()
  }
  return { record, next: next.state }
}

/**
 * Checks that `by` may confirm the take of the order as read: only the maker, only while the
 * order is in progress. Returns the record; throws OrderbookRequestError.
 */
export function checkConfirm(id: string, record: OrderRecord | undefined, by: string): OrderRecord {
  if (record === undefined) throw orderNotFound(id)
  if (by !== record.order.maker) {
    throw new OrderbookRequestError(
      403,
      'HANSA_ORDER_NOT_MAKER',
      "only the maker confirms a take (the taker's amount and price)",
    )
  }
  if (record.status !== 'in-progress') {
    throw new OrderbookRequestError(
      409,
      'HANSA_ORDER_NOT_IN_PROGRESS',
      `cannot confirm it: the order is ${record.status}`,
    )
  }
  return record
}

/** created_at of the event for the order's next status: strictly after the last one. */
export const nextEventCreatedAt = (record: OrderRecord, now: number): number =>
  Math.max(now, record.eventCreatedAt + 1)

/** Where a lapsed take returns its order: pending again, or expired when its time has come. */
export const releasedStatus = (record: OrderRecord, now: number): 'expired' | 'pending' =>
  record.order.expiresAt <= now ? 'expired' : 'pending'
