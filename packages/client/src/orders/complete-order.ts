// completeOrder: the bitcoin seller confirms the fiat payment arrived, and the trade ends in
// success (in-progress → success). Anyone else is refused (HANSA_ORDER_NOT_SELLER).
import type { OrderBookClient } from './joint-book.js'
import { type OrderReceipt, type OrderRef, postOrderAction, routeOf } from './orders-api.js'

export type CompleteOrderParameters = { order: OrderRef }
export type CompleteOrderReturnType = OrderReceipt

export async function completeOrder(
  client: OrderBookClient,
  parameters: CompleteOrderParameters,
): Promise<CompleteOrderReturnType> {
  const route = await routeOf(client, parameters.order)
  return postOrderAction<OrderReceipt>(
    client,
    route.urls,
    `/orderbook/orders/${encodeURIComponent(parameters.order.id)}/complete`,
    route.signer,
  )
}
