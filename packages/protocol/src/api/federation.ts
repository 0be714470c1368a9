// The federation API's documents (GET /federation, the chain, proposals, a sync report): the
// node's route schemas and the client's types both come from here.
import {
  type IntegerOptions,
  type ObjectOptions,
  type Static,
  type TProperties,
  Type,
} from '@sinclair/typebox'
import { MANIFEST_FORMAT, MANIFEST_LIMITS } from '../manifest-types.js'
import { Hex64, Hex128 } from './common.js'

// The manifest's shape is also its structural check (manifest-validation.ts): closed objects
// (a field this format does not name is refused, so a typo is never signed), the entry limits
// of MANIFEST_LIMITS, safe integers. The rules a schema cannot say — text lengths in
// characters, keys on the curve, URLs, uniqueness, versions, the threshold — are code there.

/** An object of this format: exactly its fields. */
const closed = <P extends TProperties>(properties: P, options: ObjectOptions = {}) =>
  Type.Object(properties, { additionalProperties: false, ...options })

/** A whole number JavaScript holds exactly. */
const SafeInteger = (minimum: number, options: IntegerOptions = {}) =>
  Type.Integer({ minimum, maximum: Number.MAX_SAFE_INTEGER, ...options })

/** Any key: the rules check keys (length, control characters), with the key's own path. */
const AnyKey = Type.String({ pattern: '^[\\s\\S]*$' })

/** A map of short texts (contact methods, policies). */
const TextMap = (maxProperties: number) => Type.Record(AnyKey, Type.String(), { maxProperties })

export const GuardianSchema = closed({ pubkey: Hex64, name: Type.String() })

export const NodeEntrySchema = closed({
  pubkey: Hex64,
  urls: Type.Array(Type.String(), {
    minItems: 1,
    maxItems: MANIFEST_LIMITS.urlsPerNode,
    description: 'ws:// or wss:// URLs',
  }),
  services: Type.Array(Type.String(), { minItems: 1, maxItems: MANIFEST_LIMITS.servicesPerNode }),
})

export const CoordinatorSchema = closed({
  pubkey: Hex64,
  alias: Type.String(),
  description: Type.String(),
  contact: TextMap(MANIFEST_LIMITS.contactEntries),
  badges: Type.Optional(Type.Array(Type.String(), { maxItems: MANIFEST_LIMITS.badges })),
  policies: Type.Optional(TextMap(MANIFEST_LIMITS.policies)),
  nodes: Type.Array(NodeEntrySchema),
})

export const ManifestSchema = closed(
  {
    hansa: Type.Literal(MANIFEST_FORMAT),
    name: Type.String(),
    version: SafeInteger(1),
    previous: Type.Union([Hex64, Type.Null()], {
      description: "sha256 of the previous version's canonical JSON (RFC 8785); null for genesis",
    }),
    issuedAt: SafeInteger(0, { description: 'unix seconds' }),
    expiresAt: SafeInteger(0, { description: 'unix seconds' }),
    guardians: Type.Array(GuardianSchema, { minItems: 1, maxItems: MANIFEST_LIMITS.guardians }),
    threshold: SafeInteger(1),
    coordinators: Type.Array(CoordinatorSchema),
    services: Type.Record(AnyKey, Type.Object({}, { additionalProperties: true }), {
      description: 'service name → the federation-wide parameters of that service',
    }),
    devFund: closed({
      recipient: Type.String(),
      suggestedRate: Type.Number({ minimum: 0, maximum: 1 }),
    }),
  },
  { description: 'The federation manifest (DESIGN.md "The manifest")' },
)

export const SignatureSchema = closed({ pubkey: Hex64, sig: Hex128 })

export const SignedManifestSchema = closed({
  manifest: ManifestSchema,
  signatures: Type.Array(SignatureSchema, { maxItems: MANIFEST_LIMITS.signatures }),
})

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
/** GET /federation: the node's federation, its verified head and its membership. */
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
/** A pending proposal with its signatures, the signers it still needs, and its changes. */
export type ProposalDocument = Static<typeof ProposalSchema>

export const ProposalResultSchema = Type.Object({
  proposal: ProposalSchema,
  adopted: Type.Boolean(),
})
export type ProposalResult = Static<typeof ProposalResultSchema>

export const OfferResultSchema = Type.Object({
  adopted: Type.Boolean(),
  federationId: Hex64,
  version: Type.Integer(),
  previousVersion: Type.Union([Type.Integer(), Type.Null()]),
})
/** POST /federation/chain: whether the offered chain was adopted. */
export type OfferResultDocument = Static<typeof OfferResultSchema>

export const SyncReportSchema = Type.Object({
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
})
/** POST /federation/sync: what each peer answered. */
export type SyncReportDocument = Static<typeof SyncReportSchema>
