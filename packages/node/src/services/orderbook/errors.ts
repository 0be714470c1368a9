// Refusals of the order book's API: a stable code, an HTTP status and a message that says what
// to do. Refusals of the order's state machine keep their protocol code (HANSA_ORDER_*).
import {
  type HansaErrorCode,
  HansaError,
  type OrderErrorCode,
  type OrderStateError,
} from '@hansa/protocol'

export class OrderbookRequestError extends HansaError {
  override name = 'OrderbookRequestError'
  readonly status: number
  constructor(status: number, code: HansaErrorCode, message: string) {
    super(code, message)
    this.status = status
  }

  toJSON(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.shortMessage } }
  }
}

const STATE_STATUS: Record<OrderErrorCode, number> = {
  HANSA_ORDER_NOT_PENDING: 409,
  HANSA_ORDER_EXPIRED: 410,
  HANSA_ORDER_NOT_MAKER: 403,
  HANSA_ORDER_OWN: 409,
  HANSA_ORDER_NOT_IN_PROGRESS: 409,
  HANSA_ORDER_NOT_SELLER: 403,
  HANSA_ORDER_NOT_DUE: 409,
}

export const stateRefused = (error: OrderStateError): OrderbookRequestError =>
  new OrderbookRequestError(STATE_STATUS[error.code] ?? 409, error.code, error.shortMessage)

/** The order breaks NIP-69 or the request is malformed. */
export const invalidOrder = (message: string) =>
  new OrderbookRequestError(400, 'HANSA_ORDER_INVALID', message)

/** The order is well formed but outside this coordinator's terms (currency, limits). */
export const outsideTerms = (message: string) =>
  new OrderbookRequestError(422, 'HANSA_ORDER_TERMS', message)

export const orderNotFound = (id: string) =>
  new OrderbookRequestError(404, 'HANSA_ORDER_NOT_FOUND', `no order ${id} on this node's book`)

/** The taker completes a trade its maker has not confirmed. */
export const unconfirmed = () =>
  new OrderbookRequestError(
    409,
    'HANSA_ORDER_UNCONFIRMED',
    'the maker has not confirmed this take yet: the trade cannot be completed before',
  )

/** The taker holds as many orders in progress as one key may. */
export const tooManyTakes = (limit: number) =>
  new OrderbookRequestError(
    429,
    'HANSA_ORDER_OPEN_TAKES',
    `rate-limited: you hold ${limit} orders in progress on this coordinator, the most one key may: complete one, or wait until an unconfirmed take lapses`,
  )
