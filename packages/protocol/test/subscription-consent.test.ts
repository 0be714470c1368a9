// A key's signed consent to be covered by another key's subscription: the good one passes;
// any change to what it names (node, service, owner), who signed it, its kind or its date is
// refused with the reason, and so is any value that is not an event.
import fc from 'fast-check'
import { finalizeEvent, generateSecretKey, getPublicKey, verifyEvent } from 'nostr-tools/pure'
import { describe, expect, it } from 'vitest'
import {
  SUBSCRIPTION_CONSENT_KIND,
  subscriptionConsentError,
  subscriptionConsentTemplate,
} from '../src/index.js'

const sk = generateSecretKey()
const pubkey = getPublicKey(sk)
const now = 1_800_000_000
const terms = { node: 'aa'.repeat(32), service: 'inbox', owner: 'bb'.repeat(32) }
const expected = { ...terms, pubkey, now }
const consent = finalizeEvent(subscriptionConsentTemplate(terms, now), sk)

describe('subscription consent', () => {
  it('passes when the added key signed these terms just now', () => {
    expect(verifyEvent({ ...consent })).toBe(true)
    expect(consent.kind).toBe(SUBSCRIPTION_CONSENT_KIND)
    expect(subscriptionConsentError(consent, expected)).toBeNull()
    expect(subscriptionConsentError(consent, { ...expected, now: now + 600 })).toBeNull()
  })

  it('names what is wrong', () => {
    expect(subscriptionConsentError('yes', expected)).toMatch(/^the consent is not a Nostr event/)
    const other = generateSecretKey()
    expect(
      subscriptionConsentError(
        finalizeEvent(subscriptionConsentTemplate(terms, now), other),
        expected,
      ),
    ).toBe(
      `the consent is signed by ${getPublicKey(other).slice(0, 12)}…, not by the key it adds (${pubkey.slice(0, 12)}…)`,
    )
    expect(subscriptionConsentError(consent, { ...expected, owner: 'cc'.repeat(32) })).toBe(
      `the consent of ${pubkey.slice(0, 12)}… names owner ${'bb'.repeat(32)}, not ${'cc'.repeat(32)}`,
    )
    expect(subscriptionConsentError(consent, { ...expected, now: now + 601 })).toBe(
      `the consent of ${pubkey.slice(0, 12)}… is dated more than 10 minutes from now: sign a fresh one`,
    )
    const auth = finalizeEvent({ ...subscriptionConsentTemplate(terms, now), kind: 22242 }, sk)
    expect(subscriptionConsentError(auth, expected)).toBe(
      `the consent must be kind ${SUBSCRIPTION_CONSENT_KIND}, not 22242`,
    )
  })

  it('refuses a consent for any other node, service or owner (property)', () => {
    const hex = fc.stringMatching(/^[0-9a-f]{64}$/)
    fc.assert(
      fc.property(
        fc.record({ node: hex, service: fc.string({ maxLength: 12 }), owner: hex }),
        (asked) => {
          const same =
            asked.node === terms.node &&
            asked.service === terms.service &&
            asked.owner === terms.owner
          const error = subscriptionConsentError(consent, { ...asked, pubkey, now })
          expect(error === null).toBe(same)
        },
      ),
      { numRuns: 200 },
    )
  })
})
