// confirmOrder: the maker confirms a take — its amount and the price it implies — so the trade
// goes on. A take its maker does not confirm within the node's orderbook.takeTimeoutSeconds
// returns the order to the book. Anyone but the maker is refused (HANSA_ORDER_NOT_MAKER).
import type { OrderBookClient } from './joint-book.js'
import { type OrderReceipt, type OrderRef, postOrderAction, routeOf } from './orders-api.js'

export type ConfirmOrderParameters = { order: OrderRef }
export type ConfirmOrderReturnType = OrderReceipt

export async function confirmOrder(
  client: OrderBookClient,
  parameters: ConfirmOrderParameters,
): Promise<ConfirmOrderReturnType> {
  const route = await routeOf(client, parameters.order)
  return postOrderAction<OrderReceipt>(
    client,
    route.urls,
    `/orderbook/orders/${encodeURIComponent(parameters.order.id)}/confirm`,
    route.secretKey,
  )
}
