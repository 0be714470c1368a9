// JSON schemas (TypeBox) of the federation API, for the OpenAPI document and for serialising
// answers. Request bodies are checked loosely here (an object, an array) and then by the
// protocol's validators, which name the exact rule a manifest breaks.
import { type Static, Type } from '@sinclair/typebox'

const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$', description: '64 lowercase hex' })
const Hex128 = Type.String({ pattern: '^[0-9a-f]{128}$', description: '128 lowercase hex' })

export const GuardianSchema = Type.Object({ pubkey: Hex64, name: Type.String() })

export const NodeEntrySchema = Type.Object({
  pubkey: Hex64,
  urls: Type.Array(Type.String(), { description: 'ws:// or wss:// URLs' }),
  services: Type.Array(Type.String()),
})

export const CoordinatorSchema = Type.Object({
  pubkey: Hex64,
  alias: Type.String(),
  description: Type.String(),
  contact: Type.Record(Type.String(), Type.String()),
  badges: Type.Optional(Type.Array(Type.String())),
  policies: Type.Optional(Type.Record(Type.String(), Type.String())),
  nodes: Type.Array(NodeEntrySchema),
})

export const ManifestSchema = Type.Object(
  {
    hansa: Type.Literal(1),
    name: Type.String(),
    version: Type.Integer({ minimum: 1 }),
    previous: Type.Union([Hex64, Type.Null()], {
      description: "sha256 of the previous version's canonical JSON (RFC 8785); null for genesis",
    }),
    issuedAt: Type.Integer({ description: 'unix seconds' }),
    expiresAt: Type.Integer({ description: 'unix seconds' }),
    guardians: Type.Array(GuardianSchema),
    threshold: Type.Integer({ minimum: 1 }),
    coordinators: Type.Array(CoordinatorSchema),
    services: Type.Record(Type.String(), Type.Object({}, { additionalProperties: true }), {
      description: 'service name → the federation-wide parameters of that service',
    }),
    devFund: Type.Object({ recipient: Type.String(), suggestedRate: Type.Number() }),
  },
  { description: 'The federation manifest (DESIGN.md "The manifest")' },
)

export const SignatureSchema = Type.Object({ pubkey: Hex64, sig: Hex128 })

export const SignedManifestSchema = Type.Object({
  manifest: ManifestSchema,
  signatures: Type.Array(SignatureSchema),
})

export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'stable code, e.g. HANSA_MANIFEST_THRESHOLD' }),
      message: Type.String(),
    }),
  },
  { description: 'A refusal: the rule broken (code) and what to do (message)' },
)

const errors = {
  400: ErrorSchema,
  401: ErrorSchema,
  403: ErrorSchema,
  404: ErrorSchema,
  409: ErrorSchema,
  422: ErrorSchema,
}

export const FederationStatusSchema = Type.Object({
  federationId: Type.Union([Hex64, Type.Null()]),
  head: Type.Union([SignedManifestSchema, Type.Null()], {
    description: 'the newest verified signed manifest',
  }),
  version: Type.Union([Type.Integer(), Type.Null()]),
  hash: Type.Union([Hex64, Type.Null()]),
  expired: Type.Boolean(),
  status: Type.Union([
    Type.Literal('standalone'),
    Type.Literal('member'),
    Type.Literal('not-member'),
  ]),
  message: Type.String(),
  node: Type.Object({
    pubkey: Hex64,
    url: Type.String(),
    coordinator: Type.Union([Type.Object({ pubkey: Hex64, alias: Type.String() }), Type.Null()]),
    services: Type.Array(Type.String(), { description: 'services this node runs now' }),
    configuredServices: Type.Array(Type.String()),
  }),
  software: Type.Object({ version: Type.String(), manifestFormat: Type.Integer() }),
  pendingProposals: Type.Integer(),
  fork: Type.Union([
    Type.Object({
      version: Type.Integer(),
      storedHash: Hex64,
      candidateHash: Hex64,
      source: Type.String(),
      at: Type.Integer(),
    }),
    Type.Null(),
  ]),
  peers: Type.Array(Type.String()),
})
export type FederationStatus = Static<typeof FederationStatusSchema>

export const ProposalSchema = Type.Object({
  hash: Hex64,
  version: Type.Integer(),
  manifest: ManifestSchema,
  signatures: Type.Array(SignatureSchema),
  proposer: Type.Union([Hex64, Type.Null()]),
  receivedAt: Type.Integer(),
  signers: Type.Object({
    previous: Type.Union([Type.Array(GuardianSchema), Type.Null()]),
    own: Type.Array(GuardianSchema),
  }),
  thresholds: Type.Object({
    previous: Type.Union([Type.Integer(), Type.Null()]),
    own: Type.Integer(),
  }),
  complete: Type.Boolean(),
  changes: Type.Array(Type.String()),
})

const AnyObject = Type.Object({}, { additionalProperties: true })
const Nip98 = [{ nip98: [] }]

export const routeSchemas = {
  status: {
    summary: "This node's federation: id, verified head, membership",
    tags: ['federation'],
    response: { 200: FederationStatusSchema },
  },
  chain: {
    summary: 'The verified manifest chain from version `from` on (a JSON array, oldest first)',
    tags: ['federation'],
    querystring: Type.Object({ from: Type.Optional(Type.Integer({ minimum: 1, default: 1 })) }),
    response: { 200: Type.Array(SignedManifestSchema), ...errors },
  },
  offerChain: {
    summary: 'Offer a chain (or its tail): adopted if it verifies and is newer',
    description:
      'No authentication: a chain proves itself by its guardian signatures. A tail may start at most one version above the node head.',
    tags: ['federation'],
    body: Type.Array(AnyObject, { description: 'signed manifests, oldest first' }),
    response: {
      200: Type.Object({
        adopted: Type.Boolean(),
        federationId: Hex64,
        version: Type.Integer(),
        previousVersion: Type.Union([Type.Integer(), Type.Null()]),
      }),
      ...errors,
    },
  },
  proposals: {
    summary: 'Pending proposals with their signatures and the changes from the head',
    tags: ['federation'],
    response: { 200: Type.Object({ proposals: Type.Array(ProposalSchema) }) },
  },
  proposal: {
    summary: 'One pending proposal',
    tags: ['federation'],
    params: Type.Object({ hash: Hex64 }),
    response: { 200: ProposalSchema, ...errors },
  },
  propose: {
    summary: 'Propose the next manifest version (a guardian, NIP-98)',
    description:
      "The body's manifest must be version head+1 with previous = the head's hash (or a genesis draft on a node with no federation), authenticated by a guardian of the head (of the draft for genesis). It may carry signatures.",
    tags: ['federation'],
    security: Nip98,
    body: Type.Object({
      manifest: Type.Object({}, { additionalProperties: true, description: 'see Manifest' }),
      signatures: Type.Optional(Type.Array(AnyObject)),
    }),
    response: {
      200: Type.Object({ proposal: ProposalSchema, adopted: Type.Boolean() }),
      201: Type.Object({ proposal: ProposalSchema, adopted: Type.Boolean() }),
      ...errors,
    },
  },
  sign: {
    summary: "Add a guardian's signature to a pending proposal (a guardian, NIP-98)",
    description:
      'The signature is BIP-340 over sha256 of the canonical JSON of the manifest, by a guardian of the head or of the proposal. The proposal is adopted once both thresholds are met.',
    tags: ['federation'],
    security: Nip98,
    params: Type.Object({ hash: Hex64 }),
    body: Type.Object({ pubkey: Type.String(), sig: Type.String() }),
    response: {
      200: Type.Object({ proposal: ProposalSchema, adopted: Type.Boolean() }),
      ...errors,
    },
  },
  sync: {
    summary: 'Pull the manifest and proposals from the peers now (and push to those behind)',
    tags: ['federation'],
    response: {
      200: Type.Object({
        at: Type.Integer(),
        version: Type.Union([Type.Integer(), Type.Null()]),
        peers: Type.Array(
          Type.Object({
            url: Type.String(),
            ok: Type.Boolean(),
            federationId: Type.Optional(Type.Union([Type.String(), Type.Null()])),
            version: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
            result: Type.String(),
          }),
        ),
      }),
    },
  },
}
