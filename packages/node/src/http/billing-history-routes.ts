// GET /billing/history: the books over time (billing/history.ts), for the coordinator — the
// same NIP-98 rule as GET /billing (the node key or a key in billing.adminPubkeys).
import { BillingHistorySchema, ErrorBodySchema } from '@hansa/protocol'
import type { FastifyInstance } from 'fastify'
import type { Billing } from '../billing/billing.js'
import { forbidden, unauthorized } from '../billing/errors.js'
import type { BillingHistory } from '../billing/history.js'
import type { Nip98Auth } from './nip98-auth.js'

export async function billingHistoryRoutes(
  app: FastifyInstance,
  options: {
    billing: Billing
    history: BillingHistory
    nip98: Nip98Auth
  },
) {
  app.get<{ Querystring: { since?: number } }>(
    '/billing/history',
    {
      schema: {
        summary:
          'The books sampled over time: totals, dev tax, subscriptions, cheques, out-of-bounds peers, connections, each SWAP peer’s balance',
        tags: ['billing'],
        security: [{ nip98: [] }],
        querystring: {
          type: 'object',
          properties: { since: { type: 'integer', minimum: 0 } },
          additionalProperties: false,
        },
        response: { 200: BillingHistorySchema, 401: ErrorBodySchema, 403: ErrorBodySchema },
      },
    },
    async (request, reply) => {
      let pubkey: string
      try {
        pubkey = await options.nip98.pubkey(
          {
            method: request.method,
            url: request.url,
            headers: request.headers,
            rawBody: undefined,
            ip: request.ip,
          },
          unauthorized,
        )
        if (!options.billing.isAdmin(pubkey)) {
          throw forbidden(
            'the books are for the coordinator: sign with the node key or a key in billing.adminPubkeys',
          )
        }
      } catch (error) {
        const e = error as { status?: number; toJSON?: () => unknown }
        if (e.toJSON && e.status) return reply.code(e.status).send(e.toJSON())
        throw error
      }
      options.history.sample()
      return {
        sampleSeconds: options.history.sampleSeconds,
        points: options.history.points(request.query.since ?? 0),
      }
    },
  )
}
