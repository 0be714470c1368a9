// The paid-access HTTP API (docs/paid-access.md): terms, subscriptions, cheques, a user's
// account and the coordinator's books. Requests that need an identity carry NIP-98 auth; its
// `payload` tag must be the sha256 of the exact body, so these routes read the raw body (in
// their own Fastify scope: other routes keep the default JSON parser). Every refusal is
// { "error": { "code", "message" } } with a HANSA_* code and an HTTP status that fits.
import {
  AccountSchema,
  Amount,
  BillingReportSchema,
  ChequeReceiptSchema,
  DevTaxPaymentReceiptSchema,
  ErrorBodySchema,
  Hex64,
  QuoteSchema,
  SignedTermsDocumentSchema,
  SubscriptionDocumentSchema,
  SubscriptionListSchema,
  SubscriptionReceiptSchema,
} from '@hansa/protocol'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Billing } from '../billing/billing.js'
import { BillingRequestError, forbidden, unauthorized } from '../billing/errors.js'
import type { Nip98Auth } from './nip98-auth.js'
import { keepRawJsonBody, rawBodyOf } from './raw-json-body.js'
import { hansaErrorHandler } from './error-handler.js'

export type BillingRoutesOptions = {
  billing: Billing
  /** NIP-98 for this node (its public URL, the verifier pool, the replay cache). */
  nip98: Nip98Auth
}

const amount = Amount
const pubkey = Hex64
const errorBody = ErrorBodySchema
const errors = {
  400: errorBody,
  401: errorBody,
  402: errorBody,
  403: errorBody,
  404: errorBody,
  409: errorBody,
  410: errorBody,
}
const auth = [{ nip98: [] }]
const tags = ['billing']

const cheque = {
  description:
    'EIP-712 cheque: { chequebook, beneficiary, cumulativePayout (decimal string), chainId, signature (0x + 130 hex) }',
}

export async function billingRoutes(app: FastifyInstance, options: BillingRoutesOptions) {
  await app.register(async (scope) => {
    keepRawJsonBody(scope, {
      bodyLimit: 65_536,
      invalid: () =>
        new BillingRequestError(400, 'HANSA_BILLING_BAD_REQUEST', 'the body is not JSON'),
    })
    scope.setErrorHandler(
      hansaErrorHandler({ invalid: 'HANSA_BILLING_BAD_REQUEST', name: 'billing' }),
    )

    const { billing } = options
    const who = (request: FastifyRequest): Promise<string> =>
      options.nip98.pubkey(
        {
          method: request.method,
          url: request.url,
          headers: request.headers,
          rawBody: rawBodyOf(request),
          ip: request.ip,
        },
        unauthorized,
      )
    const admin = async (request: FastifyRequest) => {
      const pk = await who(request)
      if (!billing.isAdmin(pk)) {
        throw forbidden(
          'the books are for the coordinator: sign with the node key or a key in billing.adminPubkeys',
        )
      }
      return pk
    }

    scope.get(
      '/terms',
      {
        schema: {
          summary:
            "This node's terms, signed by the node key (free, subscription, metered per service)",
          tags,
          response: {
            200: SignedTermsDocumentSchema,
          },
        },
      },
      async (_request, reply) => {
        reply.header('access-control-allow-origin', '*')
        return billing.signedTerms
      },
    )

    scope.post(
      '/subscriptions',
      {
        schema: {
          summary: 'Quote a subscription: the price of N periods of a service, and how to pay it',
          tags,
          security: auth,
          body: {
            type: 'object',
            required: ['service', 'periods'],
            properties: {
              service: { type: 'string' },
              periods: { type: 'integer', minimum: 1 },
              pubkeys: {
                type: 'array',
                items: pubkey,
                maxItems: 64,
                description: 'more of your own keys the subscription covers',
              },
              consents: {
                type: 'array',
                items: { type: 'object' },
                maxItems: 64,
                description:
                  'for each key in pubkeys not yet covered: its signed consent (kind 29243, tags node, service, owner)',
              },
            },
          },
          response: {
            201: QuoteSchema,
            ...errors,
          },
        },
      },
      async (request, reply) => {
        const peer = await who(request)
        reply.code(201)
        return billing.quoteSubscription(peer, request.body as Record<string, unknown>)
      },
    )

    scope.post(
      '/subscriptions/payments',
      {
        schema: {
          summary: 'Pay a quote: the rail verifies the proof, the subscription is extended',
          tags,
          security: auth,
          body: {
            type: 'object',
            required: ['quote', 'proof'],
            properties: {
              quote: { type: 'string' },
              proof: {
                type: 'object',
                description:
                  'ledger rail: { "rail": "ledger", "cheque": <cheque> }; evm rail: { "rail": "evm", "tx": "0x…" } (a PaymentRouter payment)',
              },
            },
          },
          response: {
            200: SubscriptionReceiptSchema,
            ...errors,
          },
        },
      },
      async (request) =>
        billing.paySubscription(await who(request), request.body as Record<string, unknown>),
    )

    scope.get(
      '/subscriptions',
      {
        schema: {
          summary: 'The subscriptions that cover the signing pubkey',
          tags,
          security: auth,
          response: {
            200: SubscriptionListSchema,
            ...errors,
          },
        },
      },
      async (request) => ({
        subscriptions: (await billing.subscriptionsOf(await who(request))).map((s) => ({
          ...s,
          expires: new Date(s.expiresAt * 1000).toISOString(),
        })),
      }),
    )

    const keyRoute = {
      tags,
      security: auth,
      params: { type: 'object', properties: { id: { type: 'string' }, pubkey } },
      response: { 200: SubscriptionDocumentSchema, ...errors },
    }
    scope.post(
      '/subscriptions/:id/pubkeys',
      {
        schema: {
          ...keyRoute,
          summary: 'The owner adds one of her keys to her subscription',
          body: {
            type: 'object',
            required: ['pubkey'],
            properties: {
              pubkey,
              consent: {
                type: 'object',
                description:
                  "the added key's signed consent (kind 29243, tags node, service, owner)",
              },
            },
          },
        },
      },
      async (request) => {
        const { id } = request.params as { id: string }
        const body = request.body as { pubkey: string; consent?: unknown }
        const view = await billing.addSubscriptionKey(
          id,
          await who(request),
          body.pubkey,
          body.consent,
        )
        return { subscription: { ...view, expires: new Date(view.expiresAt * 1000).toISOString() } }
      },
    )
    scope.delete(
      '/subscriptions/:id/pubkeys/:pubkey',
      {
        schema: {
          ...keyRoute,
          summary: 'The owner removes a key from her subscription (a key may remove itself)',
        },
      },
      async (request) => {
        const { id, pubkey: pk } = request.params as { id: string; pubkey: string }
        const view = await billing.removeSubscriptionKey(id, await who(request), pk)
        return { subscription: { ...view, expires: new Date(view.expiresAt * 1000).toISOString() } }
      },
    )

    scope.post(
      '/cheques',
      {
        schema: {
          summary:
            'Pay a SWAP balance with a cumulative EIP-712 cheque signed by your key; credited with its rise over the last',
          tags,
          security: auth,
          body: { type: 'object', required: ['cheque'], properties: { cheque } },
          response: {
            200: ChequeReceiptSchema,
            ...errors,
          },
        },
      },
      async (request) => {
        const body = request.body as { cheque: unknown }
        return billing.payCheque(await who(request), body.cheque)
      },
    )

    scope.get(
      '/account',
      {
        schema: {
          summary: 'Your account on this node: SWAP balance, chequebook, subscriptions, payments',
          tags,
          security: auth,
          response: {
            200: AccountSchema,
            ...errors,
          },
        },
      },
      async (request) => billing.account(await who(request)),
    )

    scope.get(
      '/billing',
      {
        schema: {
          summary:
            "The coordinator's books: income, dev tax due and paid, balances per peer, out-of-bounds peers, subscriptions",
          tags,
          security: auth,
          response: { 200: BillingReportSchema, ...errors },
        },
      },
      async (request) => {
        await admin(request)
        return billing.report()
      },
    )

    scope.post(
      '/billing/dev-tax-payments',
      {
        schema: {
          summary: 'Book dev tax passed on to the dev fund',
          tags,
          security: auth,
          body: {
            type: 'object',
            required: ['amount', 'reference'],
            properties: { amount, reference: { type: 'string' } },
          },
          response: {
            200: DevTaxPaymentReceiptSchema,
            ...errors,
          },
        },
      },
      async (request) => {
        await admin(request)
        return billing.recordDevTaxPaid(request.body as Record<string, unknown>)
      },
    )
  })
}
