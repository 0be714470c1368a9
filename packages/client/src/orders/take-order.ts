// takeOrder: asks the order's own coordinator for it. The coordinator checks that it is still
// pending and marks it in progress for this taker — of several takers at once, exactly one
// wins; the others get HANSA_ORDER_NOT_PENDING. Maker and taker then each find a NIP-17
// message from the coordinator's node in its inbox, naming the other.
import type { OrderBookClient } from './joint-book.js'
import { type OrderReceipt, type OrderRef, postOrderAction, routeOf } from './orders-api.js'

export type TakeOrderParameters = {
  order: OrderRef
  /** For a range order: how much fiat, between its min and max. */
  fiatAmount?: number
  /** For an order priced at market (amt 0): the trade's satoshis at that price. */
  sats?: number
}

export type TakeOrderReturnType = OrderReceipt

export async function takeOrder(
  client: OrderBookClient,
  parameters: TakeOrderParameters,
): Promise<TakeOrderReturnType> {
  const { order, ...terms } = parameters
  const route = await routeOf(client, order)
  return postOrderAction<OrderReceipt>(
    client,
    route.urls,
    `/orderbook/orders/${encodeURIComponent(order.id)}/take`,
    route.signer,
    { ...terms },
  )
}
