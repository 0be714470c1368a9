// The node's ENR: signed by the node key (identity scheme v4, its secp256k1 key), with the
// Hansa entries of packages/protocol/src/node-record.ts, and reading other nodes' ENRs back
// into what a node or client needs: id, pubkey, UDP endpoint and Hansa record.
import { ENR, SignableENR } from '@chainsafe/enr'
import {
  ENR_MAX_BYTES,
  NODE_RECORD_KEYS,
  type NodeRecord,
  nodeRecordEntries,
  nostrPubkeyOfCompressedKey,
  readNodeRecord,
} from '@hansa/protocol'

/** An ENR read back: every field a peer list or a client needs. */
export type DiscoveredPeer = {
  enr: string
  nodeId: string
  seq: string
  /** Nostr pubkey: the x coordinate of the ENR's secp256k1 key. */
  pubkey: string
  ip: string | null
  udpPort: number | null
  /** The Hansa entries, or null with the reason they are missing or invalid. */
  record: NodeRecord | null
  problem: string | null
}

/**
 * The first sequence number of a run: the clock in milliseconds, not 1 — peers keep the ENR
 * with the highest sequence number, so a node restarted on a new address must outrank the
 * record of its last run. (It stays below 2^53: @chainsafe/enr 5 encodes the sequence number
 * through a JavaScript number.)
 *
 * One more quirk of @chainsafe/discv5 11: it writes the enr-seq of a WHOAREYOU packet
 * left-aligned in its 8 bytes, so a peer that knows any record of ours reads back a huge
 * number, and our handshake never carries the newer record. A node that moved is therefore
 * not learnt through the handshake; it hands its ENR to the federation's nodes itself
 * (POST /discovery/enr, node-discovery.ts).
 */
export const firstEnrSeq = (nowMs: number): bigint => BigInt(nowMs)

/** Creates the node's ENR from its secret key and record; ip/udp are set by the caller. */
export function createNodeEnr(
  secretKey: Uint8Array,
  record: NodeRecord,
  seq: bigint = firstEnrSeq(Date.now()),
): SignableENR {
  const enr = SignableENR.createV4(secretKey, nodeRecordEntries(record))
  enr.seq = seq
  return enr
}

/**
 * Sets the record's entries on an ENR (each change raises its sequence number and re-signs
 * it); returns whether anything changed. Throws when the result would pass 300 bytes.
 */
export function updateNodeEnr(enr: SignableENR, record: NodeRecord): boolean {
  const entries = nodeRecordEntries(record)
  let changed = false
  for (const key of Object.values(NODE_RECORD_KEYS)) {
    const next = entries[key]
    const current = enr.kvs.get(key)
    if (next === undefined) {
      if (current !== undefined) {
        enr.delete(key)
        changed = true
      }
    } else if (current === undefined || !sameBytes(current, next)) {
      enr.set(key, next)
      changed = true
    }
  }
  checkSize(enr)
  return changed
}

/** Throws an Error naming the size when the ENR would not fit in 300 bytes. */
export function checkSize(enr: SignableENR | ENR): void {
  let size: number
  try {
    size = enr.encode().length
  } catch {
    size = Number.POSITIVE_INFINITY
  }
  if (size >= ENR_MAX_BYTES) {
    throw new Error(
      `the node's ENR would be ${Number.isFinite(size) ? `${size} bytes` : 'too large'}; an ENR holds less than ${ENR_MAX_BYTES}: use a shorter publicUrl`,
    )
  }
}

const sameBytes = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && a.every((x, i) => x === b[i])

/** Reads an ENR (text `enr:…` or decoded). Null when it cannot be decoded or verified. */
export function readPeer(input: string | ENR): DiscoveredPeer | null {
  let enr: ENR
  try {
    enr = typeof input === 'string' ? ENR.decodeTxt(input) : input
  } catch {
    return null
  }
  const pubkey = nostrPubkeyOfCompressedKey(enr.publicKey)
  if (pubkey === null) return null
  const hansa = readNodeRecord((key) => enr.kvs.get(key))
  return {
    enr: enr.encodeTxt(),
    nodeId: enr.nodeId,
    seq: enr.seq.toString(),
    pubkey,
    ip: enr.ip ?? enr.ip6 ?? null,
    udpPort: enr.udp ?? enr.udp6 ?? null,
    record: hansa.ok ? hansa.record : null,
    problem: hansa.ok ? null : hansa.reason,
  }
}
