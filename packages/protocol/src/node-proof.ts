// A node proves it holds the key it claims the NIP-42 way, with the roles reversed: the client
// picks a fresh random challenge, the node answers with an event signed by its node key whose
// `challenge` tag is that challenge and whose `relay` tag is the URL the client contacted
// (GET /proof?challenge=…&relay=…, docs/discovery.md). Signed terms and an ENR can be copied by
// anyone; only the key's holder can sign a challenge nobody has seen before.
//
// The proof is deliberately NOT kind 22242 (NIP-42 AUTH), though it has AUTH's tags: anyone may
// ask for it with any challenge, so an AUTH-kind proof would let a stranger read a relay's
// challenge, have the node sign it, and log in to that relay as the node (at a relay that does
// not insist on its own URL in the relay tag, wherever it is). Kind 29242 is ephemeral and is
// an AUTH nowhere.
//
// The node signs only its own URLs in the relay tag, so a relay in the middle cannot pass a
// proof off as its own: the client refuses a proof naming another URL than the one it asked.
// This file holds the pure checks; the signature itself is checked by the caller's verifier
// (nostr-tools' verifyEvent in the client), as auth.ts leaves it to the relay's.
import { sameRelayUrl } from './auth.js'
import { type NostrEvent, eventShapeError, tagValue } from './event.js'
import { isLowerHex } from './hex.js'

export const NODE_PROOF_KIND = 29242
/** How far a proof's created_at may stray from the client's clock, in seconds. */
export const NODE_PROOF_WINDOW_SECONDS = 600

/** A fresh challenge is 32 random bytes in lowercase hex. */
export const isNodeProofChallenge = (value: unknown): value is string => isLowerHex(value, 32)

/** The unsigned event a node signs to answer `challenge` at `relayUrl`. */
export function nodeProofTemplate(
  challenge: string,
  relayUrl: string,
  now: number,
): { kind: number; created_at: number; tags: string[][]; content: string } {
  return {
    kind: NODE_PROOF_KIND,
    created_at: now,
    tags: [
      ['relay', relayUrl],
      ['challenge', challenge],
    ],
    content: '',
  }
}

/**
 * The reason a proof does not answer the challenge for the expected key and URL, or null.
 * Checks shape, kind, pubkey, tags and time; not the signature (see the header).
 */
export function nodeProofError(
  proof: unknown,
  expected: { pubkey: string; challenge: string; relayUrl: string; now: number },
): string | null {
  const shape = eventShapeError(proof)
  if (shape !== null) return `the proof is not a Nostr event: ${shape}`
  const e = proof as NostrEvent
  if (e.kind !== NODE_PROOF_KIND) return `the proof must be kind ${NODE_PROOF_KIND}, not ${e.kind}`
  if (e.pubkey !== expected.pubkey) {
    return `the proof is signed by ${e.pubkey.slice(0, 12)}…, not by the claimed key ${expected.pubkey.slice(0, 12)}…`
  }
  if (tagValue(e, 'challenge') !== expected.challenge) return 'the proof answers another challenge'
  const relay = tagValue(e, 'relay')
  if (relay === undefined || !sameRelayUrl(relay, expected.relayUrl)) {
    return `the proof names ${relay ?? 'no relay'}, not ${expected.relayUrl}`
  }
  if (Math.abs(e.created_at - expected.now) > NODE_PROOF_WINDOW_SECONDS) {
    return 'the proof is dated more than 10 minutes from now'
  }
  return null
}
