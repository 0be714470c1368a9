// The life of an order on a coordinator's book, as a pure state machine:
//
//   pending ──take (anyone but the maker, before expires_at)──▶ in-progress ──complete──▶ success
//      │                                                            (by the bitcoin seller)
//      ├──cancel (the maker only)──▶ canceled
//      └──expire (at or after expires_at)──▶ expired
//
// canceled, success and expired are final. An in-progress trade has exactly one taker, set by
// the take that started it. The bitcoin seller — the maker of a sell order, the taker of a buy
// order — ends the trade by confirming the fiat arrived (RoboSats's "confirm payment received").
// Disputes and a cancel of an in-progress trade need a party the book does not have (an
// arbiter); they are left out.
import { HansaError } from './errors.js'
import type { OrderSide, OrderStatus } from './nip69-order.js'

export type OrderState = {
  status: OrderStatus
  side: OrderSide
  maker: string
  taker: string | null
  expiresAt: number
}

export type OrderAction =
  | { type: 'take'; by: string; at: number }
  | { type: 'cancel'; by: string; at: number }
  | { type: 'complete'; by: string; at: number }
  | { type: 'expire'; at: number }

export const ORDER_ERROR_CODES = [
  'HANSA_ORDER_NOT_PENDING',
  'HANSA_ORDER_EXPIRED',
  'HANSA_ORDER_NOT_MAKER',
  'HANSA_ORDER_OWN',
  'HANSA_ORDER_NOT_IN_PROGRESS',
  'HANSA_ORDER_NOT_SELLER',
  'HANSA_ORDER_NOT_DUE',
] as const
export type OrderErrorCode = (typeof ORDER_ERROR_CODES)[number]

/** An action the order's state does not allow; `code` says which rule, the message why. */
export class OrderStateError extends HansaError {
  override name = 'OrderStateError'
  declare readonly code: OrderErrorCode
  // biome-ignore lint/complexity/noUselessConstructor: it narrows `code` to the order codes
  constructor(code: OrderErrorCode, message: string) {
    super(code, message)
  }
}

export type OrderTransition =
  | { ok: true; state: OrderState }
  | { ok: false; error: OrderStateError }

export const FINAL_STATUSES: readonly OrderStatus[] = ['canceled', 'success', 'expired']

/** Who sells bitcoin in this trade: the maker of a sell order, the taker of a buy order. */
export const sellerOf = (state: OrderState): string | null =>
  state.side === 'sell' ? state.maker : state.taker

const fail = (code: OrderErrorCode, message: string): OrderTransition => ({
  ok: false,
  error: new OrderStateError(code, message),
})

const closed = (state: OrderState) =>
  `the order is ${state.status}${state.status === 'in-progress' ? ' (taken by someone else)' : ''}`

/** Applies one action; never mutates `state`. */
export function nextOrderState(state: OrderState, action: OrderAction): OrderTransition {
  switch (action.type) {
    case 'take':
      if (state.status !== 'pending')
        return fail('HANSA_ORDER_NOT_PENDING', `cannot take it: ${closed(state)}`)
      if (action.at >= state.expiresAt)
        return fail('HANSA_ORDER_EXPIRED', 'cannot take it: the order has expired')
      if (action.by === state.maker)
        return fail('HANSA_ORDER_OWN', 'cannot take your own order; cancel it instead')
      return { ok: true, state: { ...state, status: 'in-progress', taker: action.by } }
    case 'cancel':
      if (action.by !== state.maker) {
        return fail('HANSA_ORDER_NOT_MAKER', 'only the maker may cancel an order')
      }
      if (state.status !== 'pending')
        return fail('HANSA_ORDER_NOT_PENDING', `cannot cancel it: ${closed(state)}`)
      return { ok: true, state: { ...state, status: 'canceled' } }
    case 'complete': {
      if (state.status !== 'in-progress') {
        return fail(
          'HANSA_ORDER_NOT_IN_PROGRESS',
          `cannot complete it: the order is ${state.status}`,
        )
      }
      if (action.by !== sellerOf(state)) {
        return fail(
          'HANSA_ORDER_NOT_SELLER',
          'only the bitcoin seller completes a trade, by confirming the fiat payment arrived',
        )
      }
      return { ok: true, state: { ...state, status: 'success' } }
    }
    case 'expire':
      if (state.status !== 'pending')
        return fail('HANSA_ORDER_NOT_PENDING', `cannot expire it: ${closed(state)}`)
      if (action.at < state.expiresAt) {
        return fail('HANSA_ORDER_NOT_DUE', 'the order is not due to expire yet')
      }
      return { ok: true, state: { ...state, status: 'expired' } }
  }
}
