// A key's consent to be covered by somebody else's subscription. A subscription on a node
// covers its owner and the keys she adds (her phone, her laptop); a key she adds must have
// signed that it agrees, or anyone could tie a stranger's key to their own payments, or take
// a key's place on a node before its holder subscribes. The consent is a Nostr event signed by
// the added key, naming the node (its pubkey), the service and the owner, dated within ten
// minutes: the owner sends it with the quote (POST /subscriptions, `consents`) or with the key
// (POST /subscriptions/:id/pubkeys, `consent`). Kind 29243 is ephemeral, so no relay keeps it.
// This file holds the pure checks; the signature is checked by the caller (nostr-tools'
// verifyEvent on the node), as for auth.ts and node-proof.ts.
import { type NostrEvent, eventShapeError, tagValue } from './event.js'

export const SUBSCRIPTION_CONSENT_KIND = 29243
/** How far a consent's created_at may stray from the node's clock, in seconds. */
export const SUBSCRIPTION_CONSENT_WINDOW_SECONDS = 600

export type SubscriptionConsentTerms = {
  /** The node's pubkey (its node key, hex). */
  node: string
  service: string
  /** The subscription owner's pubkey. */
  owner: string
}

/** The unsigned event the added key signs. */
export function subscriptionConsentTemplate(
  terms: SubscriptionConsentTerms,
  now: number,
): { kind: number; created_at: number; tags: string[][]; content: string } {
  return {
    kind: SUBSCRIPTION_CONSENT_KIND,
    created_at: now,
    tags: [
      ['node', terms.node],
      ['service', terms.service],
      ['owner', terms.owner],
    ],
    content: '',
  }
}

/**
 * The reason `consent` is not `pubkey`'s consent to these terms now, or null. Checks shape,
 * kind, signer, tags and time; not the signature (see the header).
 */
export function subscriptionConsentError(
  consent: unknown,
  expected: SubscriptionConsentTerms & { pubkey: string; now: number },
): string | null {
  const shape = eventShapeError(consent)
  if (shape !== null) return `the consent is not a Nostr event: ${shape}`
  const e = consent as NostrEvent
  const who = `${expected.pubkey.slice(0, 12)}…`
  if (e.kind !== SUBSCRIPTION_CONSENT_KIND) {
    return `the consent must be kind ${SUBSCRIPTION_CONSENT_KIND}, not ${e.kind}`
  }
  if (e.pubkey !== expected.pubkey) {
    return `the consent is signed by ${e.pubkey.slice(0, 12)}…, not by the key it adds (${who})`
  }
  for (const name of ['node', 'service', 'owner'] as const) {
    const value = tagValue(e, name)
    if (value !== expected[name]) {
      return `the consent of ${who} names ${name} ${value ?? '(none)'}, not ${expected[name]}`
    }
  }
  if (Math.abs(e.created_at - expected.now) > SUBSCRIPTION_CONSENT_WINDOW_SECONDS) {
    return `the consent of ${who} is dated more than 10 minutes from now: sign a fresh one`
  }
  return null
}
