// The federation API of a node, from the client's side: one function per route. Requests that
// need a guardian's identity carry NIP-98 auth (nostr-tools' nip98, with the body's sha256 in
// the payload tag; the body sent is exactly the JSON that was hashed). A refusal becomes a
// NodeRequestError carrying the node's code (HANSA_MANIFEST_THRESHOLD, HANSA_HTTP_AUTH, …).
import {
  HansaError,
  type Manifest,
  type ManifestGuardian,
  type ManifestSignature,
  type SignedManifest,
} from '@hansa/protocol'
import { getToken } from 'nostr-tools/nip98'
import { finalizeEvent } from 'nostr-tools/pure'

/** A node's refusal, or a node that could not be reached (HANSA_NODE_UNREACHABLE). */
export class NodeRequestError extends HansaError {
  override name = 'NodeRequestError'
  /** The HTTP status, or 0 when the node did not answer. */
  readonly status: number
  readonly url: string
  constructor(code: string, status: number, url: string, message: string, cause?: unknown) {
    super(code, message, cause === undefined ? {} : { cause })
    this.status = status
    this.url = url
  }
}

export type FederationInfo = {
  federationId: string | null
  head: SignedManifest | null
  version: number | null
  hash: string | null
  expired: boolean
  status: 'standalone' | 'member' | 'not-member'
  message: string
  node: {
    pubkey: string
    url: string
    coordinator: { pubkey: string; alias: string } | null
    services: string[]
    configuredServices: string[]
  }
  software: { version: string; manifestFormat: number }
  pendingProposals: number
  fork: { version: number; storedHash: string; candidateHash: string; source: string } | null
  peers: string[]
}

export type Proposal = {
  hash: string
  version: number
  manifest: Manifest
  signatures: ManifestSignature[]
  proposer: string | null
  receivedAt: number
  signers: { previous: ManifestGuardian[] | null; own: ManifestGuardian[] }
  thresholds: { previous: number | null; own: number }
  complete: boolean
  changes: string[]
}

export type ProposalResult = { proposal: Proposal; adopted: boolean }

export type ApiOptions = {
  /** Milliseconds before a request is abandoned (default 10 000). */
  timeoutMs?: number
}

/** ws://host:port/path → http://host:port/path (wss → https); http(s) URLs unchanged. */
export function httpUrlOf(nodeUrl: string): string {
  return nodeUrl.replace(/^ws(s?):\/\//i, 'http$1://').replace(/\/+$/, '')
}

async function call<T>(
  nodeUrl: string,
  path: string,
  init: { method?: string; body?: unknown; secretKey?: Uint8Array } = {},
  options: ApiOptions = {},
): Promise<T> {
  const url = `${httpUrlOf(nodeUrl)}${path}`
  const method = init.method ?? 'GET'
  const headers: Record<string, string> = {}
  let body: string | undefined
  if (init.body !== undefined) {
    body = JSON.stringify(init.body)
    headers['content-type'] = 'application/json'
  }
  if (init.secretKey !== undefined) {
    const key = init.secretKey
    headers.authorization = await getToken(
      url,
      method,
      (template) => finalizeEvent(template, key),
      true,
      init.body as Record<string, unknown> | undefined,
    )
  }
  let response: Response
  try {
    response = await fetch(url, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    })
  } catch (cause) {
    const reason =
      (cause as Error).name === 'TimeoutError'
        ? 'timed out'
        : String((cause as Error).cause ?? (cause as Error).message)
    throw new NodeRequestError(
      'HANSA_NODE_UNREACHABLE',
      0,
      url,
      `cannot reach ${url}: ${reason}`,
      cause,
    )
  }
  const json = (await response.json().catch(() => undefined)) as
    | { error?: { code?: string; message?: string } }
    | undefined
  if (!response.ok) {
    const code = json?.error?.code ?? 'HANSA_NODE_ERROR'
    const message = json?.error?.message ?? `${method} ${url} answered ${response.status}`
    throw new NodeRequestError(code, response.status, url, message)
  }
  if (json === undefined) {
    throw new NodeRequestError(
      'HANSA_NODE_ERROR',
      response.status,
      url,
      `${url} did not answer JSON: is this a Hansa node?`,
    )
  }
  return json as T
}

/** GET /federation: the node's federation, head and membership. */
export function getFederation(nodeUrl: string, options?: ApiOptions): Promise<FederationInfo> {
  return call(nodeUrl, '/federation', {}, options)
}

/** GET /federation/chain?from=N: signed manifests from version N on, oldest first. */
export function getChain(nodeUrl: string, from = 1, options?: ApiOptions): Promise<unknown[]> {
  return call(nodeUrl, `/federation/chain?from=${from}`, {}, options)
}

/** POST /federation/chain: offer a chain (or its tail); the node adopts it if it verifies. */
export function postChain(
  nodeUrl: string,
  chain: readonly SignedManifest[],
  options?: ApiOptions,
): Promise<{ adopted: boolean; federationId: string; version: number }> {
  return call(nodeUrl, '/federation/chain', { method: 'POST', body: chain }, options)
}

/** GET /federation/proposals. */
export async function getProposals(nodeUrl: string, options?: ApiOptions): Promise<Proposal[]> {
  return (await call<{ proposals: Proposal[] }>(nodeUrl, '/federation/proposals', {}, options))
    .proposals
}

/** POST /federation/proposals, as the guardian whose secret key is given. */
export function postProposal(
  nodeUrl: string,
  proposal: { manifest: Manifest; signatures?: ManifestSignature[] },
  secretKey: Uint8Array,
  options?: ApiOptions,
): Promise<ProposalResult> {
  return call(
    nodeUrl,
    '/federation/proposals',
    { method: 'POST', body: proposal, secretKey },
    options,
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
  return call(
    nodeUrl,
    `/federation/proposals/${hash}/signatures`,
    { method: 'POST', body: signature, secretKey },
    options,
  )
}

/** POST /federation/sync: the node pulls from its peers now. */
export function requestSync(nodeUrl: string, options?: ApiOptions): Promise<unknown> {
  return call(nodeUrl, '/federation/sync', { method: 'POST' }, options)
}
