// makeOrder: submits an order to the coordinator that will run it. The coordinator checks it
// against its terms and publishes it as a NIP-69 event signed by its node, naming the maker
// (the user's key at that coordinator, registered on first use).
import type { OrderSide } from '@hansa/protocol'
import type { OrderBookClient } from './joint-book.js'
import {
  type OrderReceipt,
  bookUrlsOf,
  findCoordinator,
  postOrderAction,
  signerAt,
} from './orders-api.js'

export type MakeOrderParameters = {
  /** The coordinator's alias or pubkey. */
  coordinator: string
  side: OrderSide
  currency: string
  /** One amount, or [min, max]: a range the taker chooses from (priced at market). */
  fiatAmount: number | readonly [number, number]
  /** Satoshis; absent or 0: priced at market plus the premium when taken. */
  sats?: number
  paymentMethods: readonly string[]
  /** Percent above (negative: below) the market price. */
  premium?: number
  layer?: string
  /** Seconds the order stays pending (at most the coordinator's maxLifetimeSeconds). */
  expiresIn?: number
  /** A nickname shown in the book. */
  name?: string
  geohash?: string
}

export type MakeOrderReturnType = OrderReceipt & { coordinator: { pubkey: string; alias: string } }

export async function makeOrder(
  client: OrderBookClient,
  parameters: MakeOrderParameters,
): Promise<MakeOrderReturnType> {
  const { coordinator: name, fiatAmount, ...rest } = parameters
  const coordinator = await findCoordinator(client, name)
  const body: Record<string, unknown> = {
    ...rest,
    paymentMethods: [...rest.paymentMethods],
    fiatAmount: typeof fiatAmount === 'number' ? [fiatAmount] : [...fiatAmount],
  }
  const receipt = await postOrderAction<OrderReceipt>(
    client,
    bookUrlsOf(coordinator),
    '/orderbook/orders',
    signerAt(client, coordinator),
    body,
  )
  return { ...receipt, coordinator: { pubkey: coordinator.pubkey, alias: coordinator.alias } }
}
