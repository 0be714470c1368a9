// The order book's HTTP API (docs/orderbook.md). Reading is open; every action carries NIP-98
// auth, whose key is the maker's or taker's identity on this coordinator (registered on first
// use, like a RoboSats robot). The `payload` tag must be the sha256 of the exact body, so these
// routes read the raw body in their own Fastify scope. Every refusal is
// { "error": { "code", "message" } } with a HANSA_* code: HANSA_ORDER_NOT_PENDING (409) when
// another taker was first, HANSA_ORDER_NOT_MAKER (403) for a cancel by anyone but the maker,
// HANSA_ORDER_TERMS (422) outside the coordinator's terms, HANSA_HTTP_AUTH (401), …
import {
  ErrorBodySchema,
  HansaError,
  ORDER_LIMITS,
  ORDER_STATUSES,
  OrderListSchema,
  OrderViewSchema,
} from '@hansa/protocol'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { unauthorized } from '../../billing/errors.js'
import type { Nip98Auth } from '../../http/nip98-auth.js'
import { keepRawJsonBody, rawBodyOf } from '../../http/raw-json-body.js'
import { OrderbookRequestError } from './errors.js'
import { type MakeRequest, type OrderBook, type TakeRequest, orderView } from './order-book.js'
import { hansaErrorHandler } from '../../http/error-handler.js'

export type OrderbookRoutesOptions = {
  book: OrderBook
  /** Whether the service is on (the federation's gate). */
  active: () => boolean
  /** NIP-98 for this node (its public URL, the replay cache). */
  nip98: Nip98Auth
  now: () => number
  /** Counts each action's result (ok, or the refusal's code). */
  count: (action: string, result: string) => void
}

const pubkey = { type: 'string', pattern: '^[0-9a-f]{64}$' }
const open = (properties: Record<string, unknown>, description?: string) => ({
  type: 'object',
  properties,
  additionalProperties: true,
  ...(description ? { description } : {}),
})
const errorBody = ErrorBodySchema
const errors = {
  400: errorBody,
  429: errorBody,
  401: errorBody,
  403: errorBody,
  404: errorBody,
  409: errorBody,
  410: errorBody,
  422: errorBody,
  503: errorBody,
}
const auth = [{ nip98: [] }]
const tags = ['orderbook']
const currency = { type: 'string', pattern: '^[A-Z]{3}$', description: 'ISO 4217' }
const side = { type: 'string', enum: ['buy', 'sell'], description: 'of bitcoin' }
const status = { type: 'string', enum: [...ORDER_STATUSES] }
const orderId = { type: 'string', minLength: 1, maxLength: ORDER_LIMITS.idLength }
const orderViewSchema = OrderViewSchema
const idParams = { type: 'object', properties: { id: orderId }, required: ['id'] }

export async function orderbookRoutes(app: FastifyInstance, options: OrderbookRoutesOptions) {
  const { book } = options
  const view = (r: Parameters<typeof orderView>[0], viewer?: string | null) =>
    orderView(r, viewer, book.takeTimeoutSeconds())
  await app.register(async (scope) => {
    keepRawJsonBody(scope, { bodyLimit: 16_384, invalid: () => invalid('the body is not JSON') })
    scope.setErrorHandler(hansaErrorHandler({ invalid: 'HANSA_ORDER_INVALID', name: 'orderbook' }))

    /** The caller's key (NIP-98), once the service is known to be on. */
    const who = async (request: FastifyRequest): Promise<string> => {
      if (!options.active()) {
        throw new OrderbookRequestError(
          503,
          'HANSA_ORDERBOOK_OFF',
          'the order book is off on this node: its manifest entry does not list the orderbook service',
        )
      }
      return options.nip98.pubkey(
        {
          method: request.method,
          url: request.url,
          headers: request.headers,
          rawBody: rawBodyOf(request),
          ip: request.ip,
        },
        unauthorized,
      )
    }
    /** A reader's key, when she signs the request (NIP-98): the parties see their trade. */
    const reader = async (request: FastifyRequest): Promise<string | null> =>
      request.headers.authorization === undefined
        ? null
        : options.nip98.pubkey(
            {
              method: request.method,
              url: request.url,
              headers: request.headers,
              rawBody: undefined,
              ip: request.ip,
            },
            unauthorized,
          )
    const counted = async <T>(action: string, run: () => Promise<T>): Promise<T> => {
      try {
        const result = await run()
        options.count(action, 'ok')
        return result
      } catch (error) {
        options.count(action, error instanceof HansaError ? error.code : 'internal')
        throw error
      }
    }

    scope.get(
      '/orderbook',
      {
        schema: {
          tags,
          summary:
            "This coordinator's book: its node, coordinator, trading terms (currencies, limits, fees) and order counts",
          response: {
            200: open({
              node: pubkey,
              coordinator: {
                anyOf: [open({ pubkey, alias: { type: 'string' } }), { type: 'null' }],
              },
              active: { type: 'boolean' },
              platform: { type: 'array', items: { type: 'string' } },
              trading: open({}, 'The trading terms, as in the signed terms (GET /terms)'),
              fees: open({}, 'The fees and bond share as percentages'),
              counts: open({}, 'Orders by status'),
            }),
          },
        },
      },
      async () => book.info(),
    )

    scope.get(
      '/orderbook/orders',
      {
        schema: {
          tags,
          summary:
            'Orders on this book, newest first (the Nostr way: REQ {"kinds":[38383]} on the WebSocket); taker and trade only for the parties (NIP-98)',
          querystring: {
            type: 'object',
            properties: {
              status,
              currency,
              side,
              maker: pubkey,
              limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
            },
            additionalProperties: false,
          },
          response: { 200: OrderListSchema, ...errors },
        },
      },
      async (request) => {
        const q = request.query as {
          status?: (typeof ORDER_STATUSES)[number]
          currency?: string
          side?: 'buy' | 'sell'
          maker?: string
          limit: number
        }
        const viewer = await reader(request)
        return { orders: (await book.list(q)).map((r) => view(r, viewer)) }
      },
    )

    scope.get(
      '/orderbook/orders/:id',
      {
        schema: {
          tags,
          summary:
            'One order; its taker and trade only for the maker and the taker (sign the GET with NIP-98)',
          params: idParams,
          response: { 200: orderViewSchema, ...errors },
        },
      },
      async (request) => {
        const { id } = request.params as { id: string }
        const record = await book.get(id)
        if (record === undefined) {
          throw new OrderbookRequestError(
            404,
            'HANSA_ORDER_NOT_FOUND',
            `no order ${id} on this node's book`,
          )
        }
        return view(record, await reader(request))
      },
    )

    scope.post(
      '/orderbook/orders',
      {
        schema: {
          tags,
          security: auth,
          summary:
            'Make an order: the coordinator checks it against its terms and publishes it (kind 38383) signed by the node key, naming you as the maker',
          body: {
            type: 'object',
            required: ['side', 'currency', 'fiatAmount', 'paymentMethods'],
            additionalProperties: false,
            properties: {
              side,
              currency,
              fiatAmount: {
                type: 'array',
                items: { type: 'number', exclusiveMinimum: 0 },
                minItems: 1,
                maxItems: 2,
                description: 'one amount, or [min, max] for a range',
              },
              sats: {
                type: 'integer',
                minimum: 0,
                description: 'the amount in sats; 0 or absent: priced at market when taken',
              },
              paymentMethods: {
                type: 'array',
                minItems: 1,
                maxItems: ORDER_LIMITS.methods,
                items: {
                  type: 'string',
                  minLength: 1,
                  maxLength: ORDER_LIMITS.methodLength,
                  pattern: '^[^,]*\\S[^,]*$',
                },
              },
              premium: { type: 'number', exclusiveMinimum: -100, maximum: 1000 },
              layer: { type: 'string' },
              expiresIn: { type: 'integer', minimum: 60, description: 'seconds pending' },
              name: { type: 'string', minLength: 1, maxLength: 64 },
              geohash: { type: 'string', pattern: '^[0-9bcdefghjkmnpqrstuvwxyz]{1,12}$' },
            },
          },
          response: { 201: orderViewSchema, ...errors },
        },
      },
      async (request, reply) =>
        counted('make', async () => {
          const maker = await who(request)
          const record = await book.make(maker, request.body as MakeRequest)
          reply.code(201)
          return view(record, maker)
        }),
    )

    scope.post(
      '/orderbook/orders/:id/take',
      {
        schema: {
          tags,
          security: auth,
          summary:
            "Take a pending order: exactly one taker wins (409 HANSA_ORDER_NOT_PENDING for the others); maker and taker are told by NIP-17 messages in this node's inbox",
          params: idParams,
          body: {
            type: 'object',
            additionalProperties: false,
            properties: {
              fiatAmount: {
                type: 'number',
                exclusiveMinimum: 0,
                description: 'for a range order: how much, between its min and max',
              },
              sats: {
                type: 'integer',
                minimum: 1,
                description: "for an order priced at market (amt 0): the trade's satoshis",
              },
            },
          },
          response: { 200: orderViewSchema, ...errors },
        },
      },
      async (request) =>
        counted('take', async () => {
          const taker = await who(request)
          const { id } = request.params as { id: string }
          return view(await book.take(taker, id, (request.body ?? {}) as TakeRequest), taker)
        }),
    )

    scope.post(
      '/orderbook/orders/:id/cancel',
      {
        schema: {
          tags,
          security: auth,
          summary: 'Cancel a pending order; only its maker may (403 HANSA_ORDER_NOT_MAKER)',
          params: idParams,
          response: { 200: orderViewSchema, ...errors },
        },
      },
      async (request) =>
        counted('cancel', async () => {
          const by = await who(request)
          const { id } = request.params as { id: string }
          return view(await book.cancel(by, id), by)
        }),
    )

    scope.post(
      '/orderbook/orders/:id/confirm',
      {
        schema: {
          tags,
          security: auth,
          summary:
            'The maker confirms a take (its amount and the price it implies): the trade goes on. A take not confirmed within orderbook.takeTimeoutSeconds returns the order to the book',
          params: idParams,
          response: { 200: orderViewSchema, ...errors },
        },
      },
      async (request) =>
        counted('confirm', async () => {
          const by = await who(request)
          const { id } = request.params as { id: string }
          return view(await book.confirm(by, id), by)
        }),
    )

    scope.post(
      '/orderbook/orders/:id/complete',
      {
        schema: {
          tags,
          security: auth,
          summary:
            'Complete a trade: the bitcoin seller confirms the fiat payment arrived (in-progress → success)',
          params: idParams,
          response: { 200: orderViewSchema, ...errors },
        },
      },
      async (request) =>
        counted('complete', async () => {
          const by = await who(request)
          const { id } = request.params as { id: string }
          return view(await book.complete(by, id), by)
        }),
    )

    scope.post(
      '/orderbook/robot',
      {
        schema: {
          tags,
          security: auth,
          summary:
            'Register your key with this coordinator (RoboSats robot); any action registers it on first use too',
          response: {
            200: open({
              created: { type: 'boolean', description: 'true when this request registered it' },
              robot: open({
                pubkey,
                firstSeen: { type: 'integer' },
                lastSeen: { type: 'integer' },
                ordersMade: { type: 'integer' },
                ordersTaken: { type: 'integer' },
              }),
            }),
            ...errors,
          },
        },
      },
      async (request) => book.robot(await who(request)),
    )
  })
}

const invalid = (message: string) => new OrderbookRequestError(400, 'HANSA_ORDER_INVALID', message)
