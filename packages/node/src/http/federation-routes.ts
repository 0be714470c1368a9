// The federation's HTTP API: the verified chain and head for anyone, proposals and signatures
// from guardians (NIP-98), a chain offered by anyone (it proves itself by its signatures), and
// a sync on demand. A standalone node takes a genesis — a draft or a chain — only from a
// request its coordinator authorised (NIP-98 by the node key or an admin key, or the setup
// token; federation/federation-service.ts). Chain offers and sync requests are rate-limited
// per address: each may cost signature checks or outgoing requests. Every refusal is
// `{ error: { code, message } }` with a 4xx status and the protocol's code for the rule broken (HANSA_MANIFEST_THRESHOLD, HANSA_HTTP_AUTH, …).
import { limitKey } from './client-address.js'
import { MANIFEST_FORMAT } from '@hansa/protocol'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { FederationRequestError } from '../federation/errors.js'
import { SETUP_TOKEN_HEADER, type SetupToken } from '../federation/setup-token.js'
import { AddressBuckets } from '../relay/rate-limiter.js'
import type { SignatureVerifier } from '../federation/chain-follower.js'
import type { Federation } from '../federation/federation-service.js'
import type { ManifestSync } from '../federation/manifest-sync.js'
import { type FederationStatus, routeSchemas } from '../federation/schemas.js'
import type { Nip98Auth } from './nip98-auth.js'
import { keepRawJsonBody, rawBodyOf } from './raw-json-body.js'
import { SOFTWARE_VERSION } from './relay-info.js'
import { hansaErrorHandler } from './error-handler.js'

export type FederationRoutesOptions = {
  federation: Federation
  sync: ManifestSync
  nodePubkey: string
  /** The node's public ws:// URL (read when asked: it is known only after listen). */
  publicUrl: () => string
  configuredServices: readonly string[]
  now: () => number
  /** NIP-98 for this node (its public URL, the replay cache). */
  nip98: Nip98Auth
  /** Largest chain accepted by POST /federation/chain, in bytes. */
  chainBodyLimit?: number
  /** Keys besides the node key whose NIP-98 requests may make the node adopt a federation. */
  adminPubkeys?: () => readonly string[]
  /** The one-time setup token, while the node has one. */
  setupToken?: SetupToken | null
  /** Chain offers and sync requests one address may make per minute (default 30). */
  offersPerMinute?: number
  /** Checks guardian signatures off the event loop (the node's verify threads). */
  verifySignatures: SignatureVerifier
}

export function federationStatus(options: FederationRoutesOptions): FederationStatus {
  const { federation } = options
  const entry = federation.entry()
  return {
    federationId: federation.federationId(),
    head: federation.signedHead(),
    version: federation.version(),
    hash: federation.headHash(),
    expired: federation.expired(),
    status: federation.status(),
    message: federation.statusMessage(),
    node: {
      pubkey: options.nodePubkey,
      url: options.publicUrl(),
      coordinator: entry
        ? { pubkey: entry.coordinator.pubkey, alias: entry.coordinator.alias }
        : null,
      services: federation.activeServices(),
      configuredServices: [...options.configuredServices],
    },
    software: { version: SOFTWARE_VERSION, manifestFormat: MANIFEST_FORMAT },
    pendingProposals: federation.proposals().length,
    fork: federation.fork,
    peers: options.sync.peers(),
  }
}

export async function federationRoutes(
  app: FastifyInstance,
  options: FederationRoutesOptions,
): Promise<void> {
  const { federation, sync } = options
  await app.register(async (scope) => {
    keepRawJsonBody(scope, {
      invalid: () =>
        new FederationRequestError('HANSA_REQUEST_INVALID', 400, 'the body is not valid JSON'),
    })

    scope.setErrorHandler(
      hansaErrorHandler({ invalid: 'HANSA_REQUEST_INVALID', name: 'federation' }),
    )

    /** The pubkey a NIP-98 header authenticates for this request, or a thrown HttpAuthError. */
    const authenticate = (request: FastifyRequest): Promise<string> =>
      options.nip98.pubkey({
        method: request.method,
        url: request.url,
        headers: request.headers,
        rawBody: rawBodyOf(request),
        ip: request.ip,
      })

    /** Whether the request speaks for the node's coordinator: its setup token, or NIP-98 by an admin. */
    const admins = () => new Set([options.nodePubkey, ...(options.adminPubkeys?.() ?? [])])
    const tokenOf = (request: FastifyRequest) => request.headers[SETUP_TOKEN_HEADER]
    const byToken = (request: FastifyRequest) =>
      options.setupToken?.matches(tokenOf(request)) ?? false

    const perMinute = options.offersPerMinute ?? 30
    const buckets = new AddressBuckets(perMinute / 60, Math.max(1, Math.ceil(perMinute / 3)))
    const limit = (request: FastifyRequest) => {
      // request.ip: behind trustedProxies, the client's; limitKey: IPv6 per /64
      if (!buckets.take(limitKey(request.ip), Date.now())) {
        throw new FederationRequestError(
          'HANSA_RATE_LIMITED',
          429,
          `rate-limited: at most ${perMinute} chain offers and sync requests a minute from one address`,
        )
      }
    }

    scope.get('/federation', { schema: routeSchemas.status }, async () => federationStatus(options))

    scope.get('/federation/chain', { schema: routeSchemas.chain }, async (request) => {
      if (federation.federationId() === null) {
        throw new FederationRequestError(
          'HANSA_FEDERATION_NONE',
          404,
          'this node belongs to no federation; it has no manifest chain',
        )
      }
      const { from } = request.query as { from?: number }
      return federation.chainFrom(from ?? 1)
    })

    scope.post(
      '/federation/chain',
      { schema: routeSchemas.offerChain, bodyLimit: options.chainBodyLimit ?? 8 * 1024 * 1024 },
      async (request) => {
        limit(request)
        let authorised = false
        if (federation.needsAuthorisation() || request.headers.authorization !== undefined) {
          if (byToken(request)) authorised = true
          else if (request.headers.authorization !== undefined) {
            authorised = admins().has(await authenticate(request))
          }
        }
        // Guardian signatures are checked on the verify threads, not on the event loop.
        const result = await federation.offerChainOffLoop(
          request.body,
          `HTTP from ${request.ip}`,
          { authorised },
          options.verifySignatures,
        )
        if (authorised && byToken(request)) options.setupToken?.spend()
        await federation.flush() // committed before the node says so
        return result
      },
    )

    scope.get('/federation/proposals', { schema: routeSchemas.proposals }, async () => ({
      proposals: federation.proposals(),
    }))

    scope.get('/federation/proposals/:hash', { schema: routeSchemas.proposal }, async (request) =>
      federation.proposal((request.params as { hash: string }).hash),
    )

    scope.post(
      '/federation/proposals',
      { schema: routeSchemas.propose },
      async (request, reply) => {
        const author = await authenticate(request)
        const body = request.body as { manifest: unknown; signatures?: unknown[] }
        const token = byToken(request)
        const result = federation.propose(body.manifest, author, body.signatures ?? [], {
          authorised: token || admins().has(author),
        })
        if (token) options.setupToken?.spend()
        await federation.flush() // committed before the node says so
        reply.status(result.created ? 201 : 200)
        return { proposal: result.proposal, adopted: result.adopted }
      },
    )

    scope.post(
      '/federation/proposals/:hash/signatures',
      { schema: routeSchemas.sign },
      async (request) => {
        const author = await authenticate(request)
        const signed = federation.sign(
          (request.params as { hash: string }).hash,
          request.body,
          author,
        )
        await federation.flush() // committed before the node says so
        return signed
      },
    )

    scope.post('/federation/sync', { schema: routeSchemas.sync }, async (request) => {
      limit(request)
      return sync.syncOnce()
    })
  })
}
