// The federation API's route schemas, for the OpenAPI document and for serialising answers;
// the documents themselves are @hansa/protocol's (src/api/federation.ts), which the client
// reads too. Request bodies are checked loosely here (an object, an array) and then by the
// protocol's validators, which name the exact rule a manifest breaks.
import { Type } from '@sinclair/typebox'

import {
  ErrorBodySchema as ErrorSchema,
  FederationStatusSchema,
  Hex64,
  OfferResultSchema,
  ProposalResultSchema,
  ProposalSchema,
  SignedManifestSchema,
  SyncReportSchema,
} from '@hansa/protocol'

export type { FederationStatus } from '@hansa/protocol'

const errors = {
  400: ErrorSchema,
  401: ErrorSchema,
  403: ErrorSchema,
  404: ErrorSchema,
  409: ErrorSchema,
  422: ErrorSchema,
}

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
      200: OfferResultSchema,
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
      200: ProposalResultSchema,
      201: ProposalResultSchema,
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
      200: ProposalResultSchema,
      ...errors,
    },
  },
  sync: {
    summary: 'Pull the manifest and proposals from the peers now (and push to those behind)',
    tags: ['federation'],
    response: { 200: SyncReportSchema },
  },
}
