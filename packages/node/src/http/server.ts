// HTTP and WebSocket on one port: Fastify serves the JSON API (NIP-11 at `/` with
// `Accept: application/nostr+json`, `/metrics`, `/health`, the OpenAPI document), and
// WebSocket upgrades go to the relay engine through `ws`.
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import swagger from '@fastify/swagger'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { WebSocketServer } from 'ws'
import { AddressBuckets } from '../relay/rate-limiter.js'
import type { Relay } from '../relay/relay.js'
import { clientAddressOf, limitKey } from './client-address.js'
import { hansaErrorHandler } from './error-handler.js'
import {
  MetricsRateLimitedError,
  SCRAPES_PER_SECOND,
  SCRAPE_BURST,
  scrapeSeesPeers,
  withoutPeerSeries,
} from './metrics-access.js'
import { SOFTWARE_VERSION } from './relay-info.js'

export type HttpServerOptions = {
  relay: Relay
  log: Logger
  metrics: Registry
  maxMessageBytes: number
  relayInfo: () => object
  /** The storage's health for /health; not ok answers 503, so a load balancer looks elsewhere. */
  health?: () => Promise<{ ok: boolean; storage: object }>
  /** Runs before /metrics answers, to refresh gauges read from the store. */
  beforeMetrics?: () => Promise<void>
  /** Bearer token that shows per-peer series at /metrics ('' : never shown). */
  metricsToken?: string
  /** Reverse proxies whose X-Forwarded-For is believed (request.ip, the relay's limits). */
  trustedProxies?: readonly string[]
  /** More routes (the federation API), registered after the built-in ones. */
  routes?: Array<(app: FastifyInstance) => Promise<void>>
}

export async function createHttpServer(options: HttpServerOptions): Promise<FastifyInstance> {
  const { relay, log } = options
  const trustedProxies = [...(options.trustedProxies ?? [])]
  const app = Fastify({
    loggerInstance: log.child({ component: 'http' }) as FastifyBaseLogger,
    disableRequestLogging: true,
    // request.ip is X-Forwarded-For's client only when the socket is a trusted proxy.
    trustProxy: trustedProxies.length > 0 ? trustedProxies : false,
  })
  // The WebSocket side: the same rule for X-Forwarded-For, and IPv6 counted per /64.
  const clientAddress = clientAddressOf(trustedProxies)
  // Every route set answers a refusal in one shape; sets with their own "invalid request"
  // code (billing, the order book) set the same handler in their scope.
  app.setErrorHandler(hansaErrorHandler({ invalid: 'HANSA_REQUEST_INVALID', name: 'http' }))
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Hansa node API',
        version: SOFTWARE_VERSION,
        description:
          'HTTP/JSON API of a Hansa node. Services speak Nostr (NIP-01) over WebSocket on the same port.',
      },
      components: {
        securitySchemes: {
          nip98: {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description:
              'NIP-98 HTTP auth: "Nostr " + base64 of a signed kind-27235 event with u, method and payload (sha256 of the body) tags',
          },
        },
      },
    },
  })

  app.get(
    '/',
    {
      schema: {
        summary: 'NIP-11 relay information document (send Accept: application/nostr+json)',
        response: { 200: { type: 'object', additionalProperties: true } },
      },
    },
    async (request, reply) => {
      reply.header('access-control-allow-origin', '*')
      if ((request.headers.accept ?? '').includes('application/nostr+json')) {
        reply.type('application/nostr+json')
        return options.relayInfo()
      }
      reply.type('text/plain')
      return 'This is a Hansa node. Connect a Nostr client over WebSocket to this URL, or read /openapi.json.\n'
    },
  )

  app.get(
    '/health',
    {
      schema: {
        summary: 'Liveness',
        response: {
          200: {
            type: 'object',
            properties: {
              status: { type: 'string' },
              connections: { type: 'integer' },
              storage: { type: 'object', additionalProperties: true },
            },
          },
          503: {
            type: 'object',
            properties: {
              status: { type: 'string' },
              connections: { type: 'integer' },
              storage: { type: 'object', additionalProperties: true },
            },
          },
        },
      },
    },
    async (_request, reply) => {
      const health = await options.health?.()
      if (health && !health.ok) reply.code(503)
      return {
        status: health && !health.ok ? 'degraded' : 'ok',
        connections: relay.connections.size,
        ...(health ? { storage: health.storage } : {}),
      }
    },
  )

  const scrapes = new AddressBuckets(SCRAPES_PER_SECOND, SCRAPE_BURST)
  app.get(
    '/metrics',
    {
      schema: {
        summary:
          'Prometheus metrics; per-peer series (keys, balances) only with the metricsToken as a bearer token',
      },
    },
    async (request, reply) => {
      if (!scrapes.take(limitKey(request.ip), Date.now())) throw new MetricsRateLimitedError()
      const peers = scrapeSeesPeers(request.headers.authorization, options.metricsToken ?? '')
      await options.beforeMetrics?.()
      reply.type(options.metrics.contentType)
      const text = await options.metrics.metrics()
      return peers ? text : withoutPeerSeries(text)
    },
  )

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  for (const routes of options.routes ?? []) await routes(app)

  // Messages up to 4x the limit are read so the relay can answer them with a reason;
  // anything larger closes the socket (1009), as nothing else can be done with it.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxMessageBytes * 4,
    perMessageDeflate: false,
  })
  app.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    wss.handleUpgrade(request, socket, head, (ws) =>
      relay.accept(ws, request, limitKey(clientAddress(request))),
    )
  })
  app.addHook('onClose', async () => {
    await new Promise<void>((resolve) => wss.close(() => resolve()))
  })
  return app
}
