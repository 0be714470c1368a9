// The joint order book (docs/orderbook.md): `createOrderBook(options)` gives an object whose
// methods are the actions, each also usable alone as `action(client, parameters)`.
import { cancelOrder } from './cancel-order.js'
import { completeOrder } from './complete-order.js'
import { confirmOrder } from './confirm-order.js'
import { type OrderBookClient, type OrderBookOptions, createOrderBookClient } from './joint-book.js'
import { listOrders } from './list-orders.js'
import { makeOrder } from './make-order.js'
import { registerRobot } from './register-robot.js'
import { takeOrder } from './take-order.js'
import type { OrderFilter } from './types.js'
import { watchOrders } from './watch-orders.js'

export type OrderBook = {
  readonly client: OrderBookClient
  list(filter?: OrderFilter): ReturnType<typeof listOrders>
  watch(parameters: Parameters<typeof watchOrders>[1]): ReturnType<typeof watchOrders>
  make(parameters: Parameters<typeof makeOrder>[1]): ReturnType<typeof makeOrder>
  take(parameters: Parameters<typeof takeOrder>[1]): ReturnType<typeof takeOrder>
  cancel(parameters: Parameters<typeof cancelOrder>[1]): ReturnType<typeof cancelOrder>
  confirm(parameters: Parameters<typeof confirmOrder>[1]): ReturnType<typeof confirmOrder>
  complete(parameters: Parameters<typeof completeOrder>[1]): ReturnType<typeof completeOrder>
  registerRobot(parameters: Parameters<typeof registerRobot>[1]): ReturnType<typeof registerRobot>
}

export function createOrderBook(options: OrderBookOptions): OrderBook {
  const client = createOrderBookClient(options)
  return {
    client,
    list: (filter) => listOrders(client, filter),
    watch: (parameters) => watchOrders(client, parameters),
    make: (parameters) => makeOrder(client, parameters),
    take: (parameters) => takeOrder(client, parameters),
    cancel: (parameters) => cancelOrder(client, parameters),
    confirm: (parameters) => confirmOrder(client, parameters),
    complete: (parameters) => completeOrder(client, parameters),
    registerRobot: (parameters) => registerRobot(client, parameters),
  }
}

export { type OrderBookClient, type OrderBookOptions, createOrderBookClient } from './joint-book.js'
export { DEFAULT_BOOK_TIMEOUT_MS } from './joint-book.js'
export { sourceNodes } from './book-feeds.js'
export { trustedCoordinatorsOf, customRelaysOf } from './from-client.js'
export type { WebSocketConstructor, WebSocketLike } from './node-feed.js'
export { BookState } from './book-state.js'
export {
  type BookNode,
  type BookCoordinator,
  type TrustedCoordinators,
  type OrderFilter,
  type JointOrder,
  type CoordinatorStatus,
  type ExcludedOrder,
  type JointBook,
  coordinatorsFromManifest,
  fixedCoordinators,
} from './types.js'
export {
  type OrderIdentity,
  COORDINATOR_KEY_SALT,
  deriveCoordinatorKey,
  keyFor,
  pubkeyFor,
} from './coordinator-keys.js'
export { type OrderReceipt, type OrderRef, OrderBookError } from './orders-api.js'
export { listOrders, type ListOrdersParameters, type ListOrdersReturnType } from './list-orders.js'
export {
  watchOrders,
  type WatchOrdersParameters,
  type WatchOrdersReturnType,
} from './watch-orders.js'
export { makeOrder, type MakeOrderParameters, type MakeOrderReturnType } from './make-order.js'
export { takeOrder, type TakeOrderParameters, type TakeOrderReturnType } from './take-order.js'
export {
  cancelOrder,
  type CancelOrderParameters,
  type CancelOrderReturnType,
} from './cancel-order.js'
export {
  confirmOrder,
  type ConfirmOrderParameters,
  type ConfirmOrderReturnType,
} from './confirm-order.js'
export {
  completeOrder,
  type CompleteOrderParameters,
  type CompleteOrderReturnType,
} from './complete-order.js'
export {
  registerRobot,
  type RegisterRobotParameters,
  type RegisterRobotReturnType,
} from './register-robot.js'
