// One key, two worlds: the Ethereum address of a secret is one of the two an x-only Nostr
// pubkey may stand for (what the FederationRegistry computes on chain to check guardians).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  ethereumAddress,
  ethereumAddressesOfPubkey,
  generateSecretKey,
  nostrPublicKey,
} from '@hansa/protocol'

describe('ethereumAddressesOfPubkey', () => {
  it("holds the key's own address, for any key", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        // any 32 bytes but zero are a valid secret (one in 2^128 is above the group order)
        const sk = bytes.some((b) => b !== 0) ? bytes : generateSecretKey()
        const both = ethereumAddressesOfPubkey(nostrPublicKey(sk))
        expect(both).not.toBeNull()
        expect(both).toContain(ethereumAddress(sk))
        expect(both![0]).not.toBe(both![1])
      }),
      { numRuns: 50 },
    )
  })

  it('refuses what is not an x coordinate on the curve', () => {
    expect(ethereumAddressesOfPubkey('zz')).toBeNull()
    expect(ethereumAddressesOfPubkey('AB'.repeat(32))).toBeNull()
    // x = 5: 125 + 7 = 132 is not a square mod p
    expect(ethereumAddressesOfPubkey(`${'0'.repeat(63)}5`)).toBeNull()
  })
})
