// cancelOrder: the maker withdraws a pending order, at its coordinator. Anyone else is refused
// (HANSA_ORDER_NOT_MAKER); so is an order no longer pending (HANSA_ORDER_NOT_PENDING).
import type { OrderBookClient } from './joint-book.js'
import { type OrderReceipt, type OrderRef, postOrderAction, routeOf } from './orders-api.js'

export type CancelOrderParameters = { order: OrderRef }
export type CancelOrderReturnType = OrderReceipt

export async function cancelOrder(
  client: OrderBookClient,
  parameters: CancelOrderParameters,
): Promise<CancelOrderReturnType> {
  const route = await routeOf(client, parameters.order)
  return postOrderAction<OrderReceipt>(
    client,
    route.urls,
    `/orderbook/orders/${encodeURIComponent(parameters.order.id)}/cancel`,
    route.signer,
  )
}
