// The order book API's documents (docs/orderbook.md): an order as a coordinator's node reports
// it. The node's route schemas and the client's types both come from here.
import { type Static, Type } from '@sinclair/typebox'
import { ORDER_STATUSES } from '../nip69-order.js'
import { Hex64, open } from './common.js'

const literals = <T extends string>(values: readonly T[]) => values.map((v) => Type.Literal(v))

export const OrderStatusSchema = Type.Union(literals(ORDER_STATUSES))

/** The order as its NIP-69 tags say it. */
export const Nip69OrderSchema = open(
  {
    id: Type.String(),
    side: Type.Union([Type.Literal('buy'), Type.Literal('sell')], { description: 'of bitcoin' }),
    currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217' }),
    status: OrderStatusSchema,
    amount: Type.Integer({ description: 'sats; 0: at market price' }),
    fiatAmount: Type.Array(Type.Number()),
    paymentMethods: Type.Array(Type.String()),
    premium: Type.Number(),
    network: Type.String(),
    layer: Type.String(),
    expiresAt: Type.Integer(),
    expiration: Type.Integer(),
    platform: Type.Array(Type.String()),
    maker: Hex64,
  },
  'The order as its NIP-69 tags say it',
)

export const TradeSchema = open({
  sats: Type.Integer(),
  fiat: Type.Number(),
  makerFee: Type.Integer({ description: 'sats' }),
  takerFee: Type.Integer({ description: 'sats' }),
})

export const OrderViewSchema = open({
  id: Type.String(),
  status: OrderStatusSchema,
  maker: Hex64,
  taker: Type.Union([Hex64, Type.Null()]),
  order: Nip69OrderSchema,
  trade: Type.Union([TradeSchema, Type.Null()]),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
  event: Type.Union([
    Type.Object(
      {},
      {
        additionalProperties: true,
        description: 'The kind-38383 event published for the current status',
      },
    ),
    Type.Null(),
  ]),
})
/** An order as its coordinator's node reports it (its `order` and `event` typed loosely here). */
export type OrderViewDocument = Static<typeof OrderViewSchema>

export const OrderListSchema = open({ orders: Type.Array(OrderViewSchema) })
