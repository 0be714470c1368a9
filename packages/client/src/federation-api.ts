// The federation API of a node, from the client's side: one function per route. Requests that
// need a guardian's identity carry NIP-98 auth (nostr-tools' nip98, with the body's sha256 in
// the payload tag; the body sent is exactly the JSON that was hashed). A refusal becomes a
// NodeRequestError carrying the node's code (HANSA_MANIFEST_THRESHOLD, HANSA_HTTP_AUTH, …).
import type {
  FederationStatus,
  Manifest,
  ManifestSignature,
  ProposalDocument,
  ProposalResult,
  SignedManifest,
  SyncStatusDocument,
} from '@hansa/protocol'
import { type NodeRequestOptions, callNode } from './node-request.js'

export { NodeRequestError, httpUrlOf } from './node-request.js'

/** GET /federation: @hansa/protocol's FederationStatus document (src/api/federation.ts). */
export type FederationInfo = FederationStatus
/** A pending proposal as a node serves it. */
export type Proposal = ProposalDocument
export type { ProposalResult } from '@hansa/protocol'

export type ApiOptions = Pick<NodeRequestOptions, 'timeoutMs'>

/** GET /federation: the node's federation, head and membership. */
export function getFederation(nodeUrl: string, options?: ApiOptions): Promise<FederationInfo> {
  return callNode(nodeUrl, '/federation', {}, options)
}

/** GET /federation/sync-status: replication with each peer member node (docs/replication.md). */
export function getSyncStatus(nodeUrl: string, options?: ApiOptions): Promise<SyncStatusDocument> {
  return callNode(nodeUrl, '/federation/sync-status', {}, options)
}

/** GET /federation/chain?from=N: signed manifests from version N on, oldest first. */
export function getChain(nodeUrl: string, from = 1, options?: ApiOptions): Promise<unknown[]> {
  return callNode(nodeUrl, `/federation/chain?from=${from}`, {}, options)
}

/** POST /federation/chain: offer a chain (or its tail); the node adopts it if it verifies. */
export function postChain(
  nodeUrl: string,
  chain: readonly SignedManifest[],
  options?: ApiOptions,
): Promise<{ adopted: boolean; federationId: string; version: number }> {
  return callNode(nodeUrl, '/federation/chain', { method: 'POST', body: chain }, options)
}

/** GET /federation/proposals. */
export async function getProposals(nodeUrl: string, options?: ApiOptions): Promise<Proposal[]> {
  return (await callNode<{ proposals: Proposal[] }>(nodeUrl, '/federation/proposals', {}, options))
    .proposals
}

/** POST /federation/proposals, as the guardian whose secret key is given. */
export function postProposal(
  nodeUrl: string,
  proposal: { manifest: Manifest; signatures?: ManifestSignature[] },
  secretKey: Uint8Array,
  options?: ApiOptions & { setupToken?: string },
): Promise<ProposalResult> {
  const { setupToken, ...rest } = options ?? {}
  return callNode(
    nodeUrl,
    '/federation/proposals',
    {
      method: 'POST',
      body: proposal,
      secretKey,
      ...(setupToken === undefined ? {} : { headers: { 'hansa-setup-token': setupToken } }),
    },
    rest,
  )
}

/** POST /federation/proposals/:hash/signatures, as the guardian whose secret key is given. */
export function postSignature(
  nodeUrl: string,
  hash: string,
  signature: ManifestSignature,
  secretKey: Uint8Array,
  options?: ApiOptions,
): Promise<ProposalResult> {
  return callNode(
    nodeUrl,
    `/federation/proposals/${hash}/signatures`,
    { method: 'POST', body: signature, secretKey },
    options,
  )
}

/** POST /federation/sync: the node pulls from its peers now. */
export function requestSync(nodeUrl: string, options?: ApiOptions): Promise<unknown> {
  return callNode(nodeUrl, '/federation/sync', { method: 'POST' }, options)
}

/** The registry signatures a node gathered for one manifest (GET/POST /federation/registry-signatures). */
export type RegistrySignaturesInfo = {
  hash: string
  version: number
  federationId: string
  chainId: number
  registry: string
  signatures: { guardian: string; signature: string }[]
}

/** GET /federation/registry-signatures/:hash: what guardians signed for the on-chain registry. */
export function getRegistrySignatures(
  nodeUrl: string,
  hash: string,
  options?: ApiOptions,
): Promise<RegistrySignaturesInfo> {
  return callNode(nodeUrl, `/federation/registry-signatures/${hash}`, {}, options)
}

/** POST /federation/registry-signatures, as the guardian whose secret key is given. */
export function postRegistrySignature(
  nodeUrl: string,
  body: { hash: string; chainId: number; registry: string; signature: string },
  secretKey: Uint8Array,
  options?: ApiOptions,
): Promise<RegistrySignaturesInfo> {
  return callNode(
    nodeUrl,
    '/federation/registry-signatures',
    { method: 'POST', body, secretKey },
    options,
  )
}
