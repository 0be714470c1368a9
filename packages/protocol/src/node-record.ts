// What a Hansa node announces on Discovery v5 (DESIGN.md "Discovery"): its ENR (EIP-778, signed
// by the node key, identity scheme "v4") carries, besides the standard `secp256k1`, `ip` and
// `udp` keys, three of Hansa's own:
//
//   hansa-fed   the federation id, 32 raw bytes (absent while the node is standalone)
//   hansa-svc   the services the node runs, ASCII names joined by commas ("inbox,orderbook")
//   hansa-ws    the node's WebSocket URL, UTF-8 ("wss://inbox.example.org")
//
// An ENR holds at most 300 bytes, so these stay compact: raw bytes, not hex. This file only
// maps a record to and from its key/value bytes; signing and the RLP envelope are
// @chainsafe/enr's. The node's Nostr pubkey is the x coordinate of the ENR's compressed
// `secp256k1` key: the same key signs the ENR, Nostr events and the terms.
import { bytesToHex, isLowerHex, lowerHexToBytes } from './hex.js'
import { nodeUrlProblem } from './manifest-validation.js'

export const NODE_RECORD_KEYS = {
  federation: 'hansa-fed',
  services: 'hansa-svc',
  ws: 'hansa-ws',
} as const

/** EIP-778: an encoded ENR holds at most 300 bytes. */
export const ENR_MAX_BYTES = 300

export type NodeRecord = {
  /** Lowercase hex federation id, or null for a standalone node. */
  federationId: string | null
  services: string[]
  /** ws:// or wss:// URL clients connect to. */
  wsUrl: string
}

export type NodeRecordResult = { ok: true; record: NodeRecord } | { ok: false; reason: string }

const SERVICE = /^[a-z][a-z0-9-]{0,31}$/
const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** The reason a record cannot be announced, or null. */
export function nodeRecordProblem(record: NodeRecord): string | null {
  if (record.federationId !== null && !isLowerHex(record.federationId, 32)) {
    return 'the federation id must be 64 lowercase hex characters'
  }
  const bad = record.services.find((s) => !SERVICE.test(s))
  if (bad !== undefined) return `service name ${JSON.stringify(bad)} is not a-z, 0-9 and -`
  const urlProblem = nodeUrlProblem(record.wsUrl)
  return urlProblem === null ? null : `the WebSocket URL ${urlProblem}`
}

/** The ENR entries for a record. Throws a TypeError naming the problem with a bad record. */
export function nodeRecordEntries(record: NodeRecord): Record<string, Uint8Array> {
  const problem = nodeRecordProblem(record)
  if (problem !== null) throw new TypeError(problem)
  const entries: Record<string, Uint8Array> = {
    [NODE_RECORD_KEYS.services]: encoder.encode([...new Set(record.services)].sort().join(',')),
    [NODE_RECORD_KEYS.ws]: encoder.encode(record.wsUrl),
  }
  if (record.federationId !== null) {
    entries[NODE_RECORD_KEYS.federation] = lowerHexToBytes(record.federationId)
  }
  return entries
}

/**
 * Reads Hansa's entries from an ENR's key/values (`get` looks one key up). Never throws: an
 * ENR from the network may carry anything, and the reason says what is wrong with it.
 */
export function readNodeRecord(get: (key: string) => Uint8Array | undefined): NodeRecordResult {
  const ws = get(NODE_RECORD_KEYS.ws)
  if (ws === undefined)
    return { ok: false, reason: `no ${NODE_RECORD_KEYS.ws} entry: not a Hansa node` }
  let wsUrl: string
  let servicesText: string
  try {
    wsUrl = decoder.decode(ws)
    servicesText = decoder.decode(get(NODE_RECORD_KEYS.services) ?? new Uint8Array())
  } catch {
    return { ok: false, reason: 'its Hansa entries are not valid UTF-8' }
  }
  const fed = get(NODE_RECORD_KEYS.federation)
  if (fed !== undefined && fed.length !== 32) {
    return {
      ok: false,
      reason: `${NODE_RECORD_KEYS.federation} must be 32 bytes, not ${fed.length}`,
    }
  }
  const record: NodeRecord = {
    federationId: fed === undefined ? null : bytesToHex(fed),
    services: servicesText === '' ? [] : servicesText.split(','),
    wsUrl,
  }
  const problem = nodeRecordProblem(record)
  return problem === null ? { ok: true, record } : { ok: false, reason: problem }
}

/**
 * The Nostr pubkey (x-only, lowercase hex) of an ENR's `secp256k1` key (33 bytes compressed).
 * Null when it is not a compressed key.
 */
export function nostrPubkeyOfCompressedKey(key: Uint8Array): string | null {
  if (key.length !== 33 || (key[0] !== 2 && key[0] !== 3)) return null
  return bytesToHex(key.subarray(1))
}
