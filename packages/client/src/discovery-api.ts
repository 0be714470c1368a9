// A node's discovery routes from the client's side (docs/discovery.md): its ENR (GET
// /discovery) and the proof of its key for a fresh challenge (GET /proof), checked here:
// signature (nostr-tools), key, challenge, the URL asked, time (protocol's nodeProofError).
import { bytesToHex, nodeProofError } from '@hansa/protocol'
import { verifyEvent } from 'nostr-tools/pure'
import { httpUrlOf } from './federation-api.js'

export type DiscoveryInfo = {
  enabled: boolean
  enr: string | null
  nodeId: string | null
  pubkey: string
  ip: string | null
  udpPort: number | null
  peers: number
}

export type RequestEnv = {
  fetch: typeof fetch
  timeoutMs: number
}

const reasonOf = (error: unknown): string => {
  const e = error as Error & { cause?: { code?: string; message?: string } }
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timed out'
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(error)
}

/** GET a JSON document; throws an Error whose message is a short reason. */
export async function getJson(url: string, env: RequestEnv): Promise<unknown> {
  let response: Response
  try {
    response = await env.fetch(url, { signal: AbortSignal.timeout(env.timeoutMs) })
  } catch (error) {
    throw new Error(reasonOf(error))
  }
  const body = await response.json().catch(() => undefined)
  if (!response.ok) {
    const message = (body as { error?: { message?: string } } | undefined)?.error?.message
    throw new Error(`HTTP ${response.status}${message ? `: ${message}` : ''}`)
  }
  if (body === undefined) throw new Error('the answer is not JSON')
  return body
}

/** GET /discovery: the node's ENR (null when its discovery is off). */
export async function getDiscovery(nodeUrl: string, env: RequestEnv): Promise<DiscoveryInfo> {
  return (await getJson(`${httpUrlOf(nodeUrl)}/discovery`, env)) as DiscoveryInfo
}

export type ProofResult = { ok: true } | { ok: false; reason: string }

/**
 * Asks the node at `nodeUrl` to prove it holds `pubkey` for a fresh 32-byte challenge, and
 * checks the answer. Never throws: an unreachable node or a bad proof is a reason.
 */
export async function proveNodeKey(
  nodeUrl: string,
  pubkey: string,
  env: RequestEnv & { randomBytes: (n: number) => Uint8Array; now: () => number },
): Promise<ProofResult> {
  const challenge = bytesToHex(env.randomBytes(32))
  let body: unknown
  try {
    body = await getJson(
      `${httpUrlOf(nodeUrl)}/proof?challenge=${challenge}&relay=${encodeURIComponent(nodeUrl)}`,
      env,
    )
  } catch (error) {
    return { ok: false, reason: `no proof: ${(error as Error).message}` }
  }
  const proof = (body as { proof?: unknown }).proof
  const problem = nodeProofError(proof, { pubkey, challenge, relayUrl: nodeUrl, now: env.now() })
  if (problem !== null) return { ok: false, reason: problem }
  if (!verifyEvent(proof as Parameters<typeof verifyEvent>[0])) {
    return { ok: false, reason: 'the proof signature does not verify' }
  }
  return { ok: true }
}
