// The registry signatures' HTTP API (federation/registry-signatures.ts): a guardian posts her
// EIP-712 signature of the FederationRegistry update for a manifest the node holds (NIP-98,
// checked as hers on receipt); anyone reads what was gathered for a manifest, to send the
// anchoring transaction. Its own route set beside federation-routes.ts, same error bodies.
import { ErrorBodySchema as ErrorSchema, Hex64 } from '@hansa/protocol'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { FederationRequestError } from '../federation/errors.js'
import type { RegistrySignatures } from '../federation/registry-signatures.js'
import { hansaErrorHandler } from './error-handler.js'
import type { Nip98Auth } from './nip98-auth.js'
import { keepRawJsonBody, rawBodyOf } from './raw-json-body.js'

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema }
const ViewSchema = Type.Object({
  hash: Hex64,
  version: Type.Integer(),
  federationId: Hex64,
  chainId: Type.Integer(),
  registry: Type.String(),
  signatures: Type.Array(Type.Object({ guardian: Hex64, signature: Type.String() })),
})

export const registrySignatureSchemas = {
  add: {
    summary: "Add a guardian's FederationRegistry signature for a manifest (a guardian, NIP-98)",
    description:
      "EIP-712 over the registry's Update for a pending proposal or a version of the chain, for the registry and chain this node names; it must recover to the author's key, a guardian of that version or the one before.",
    tags: ['federation'],
    security: [{ nip98: [] }],
    body: Type.Object({
      hash: Type.String(),
      chainId: Type.Integer(),
      registry: Type.String(),
      signature: Type.String(),
    }),
    response: { 200: ViewSchema, ...errors, 409: ErrorSchema, 422: ErrorSchema },
  },
  view: {
    summary: 'The registry signatures gathered for a manifest (anyone may anchor with them)',
    tags: ['federation'],
    params: Type.Object({ hash: Hex64 }),
    response: { 200: ViewSchema, ...errors, 409: ErrorSchema },
  },
}

export async function registrySignatureRoutes(
  app: FastifyInstance,
  options: { signatures: RegistrySignatures; nip98: Nip98Auth },
): Promise<void> {
  await app.register(async (scope) => {
    keepRawJsonBody(scope, {
      bodyLimit: 4096,
      invalid: () =>
        new FederationRequestError('HANSA_REQUEST_INVALID', 400, 'the body is not valid JSON'),
    })
    scope.setErrorHandler(
      hansaErrorHandler({ invalid: 'HANSA_REQUEST_INVALID', name: 'registry signatures' }),
    )
    const authenticate = (request: FastifyRequest): Promise<string> =>
      options.nip98.pubkey({
        method: request.method,
        url: request.url,
        headers: request.headers,
        rawBody: rawBodyOf(request),
        ip: request.ip,
      })

    scope.post(
      '/federation/registry-signatures',
      { schema: registrySignatureSchemas.add },
      async (request) => options.signatures.add(await authenticate(request), request.body),
    )
    scope.get(
      '/federation/registry-signatures/:hash',
      { schema: registrySignatureSchemas.view },
      async (request) => options.signatures.view((request.params as { hash: string }).hash),
    )
  })
}
